// The playground: plain ES module, no build step. Every request goes to this same origin with the key the visitor
// typed (kept in localStorage, sent nowhere else). Beside each answer it shows the same request as curl and as
// @clip-edge/client code, so what worked here can be pasted into an app.
const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "clip-edge.playground.key";
const state = { files: [] };

$("key").value = localStorage.getItem(KEY_STORAGE) ?? "";
$("key").addEventListener("input", () => localStorage.setItem(KEY_STORAGE, $("key").value.trim()));

function setFiles(list) {
  state.files = [...list].filter((f) => f.size > 0);
  const previews = $("previews");
  previews.replaceChildren(
    ...state.files.map((file) => {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = `Selected photo ${file.name}`;
      // A file the browser cannot show is still sent: the API's answer says what is wrong with it.
      img.addEventListener("error", () =>
        img.replaceWith(Object.assign(document.createElement("span"), { textContent: file.name })),
      );
      return img;
    }),
  );
}
$("photos").addEventListener("change", (e) => setFiles(e.target.files));
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  setFiles(e.dataTransfer.files);
});

const labels = () =>
  $("labels")
    .value.split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
const q = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
const names = () => state.files.map((f, i) => f.name || `photo-${i + 1}.jpg`);
const dataUrl = (file) =>
  new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });

/** Sends one request and renders its answer; `show` gets the parsed JSON of a 2xx answer. */
async function call({ method = "POST", path, body, curl, sdk, show }) {
  const key = $("key").value.trim();
  $("curl").textContent = curl;
  $("sdk").textContent =
    `import { ClipEdge } from "@clip-edge/client";\n\nconst clip = new ClipEdge({ apiKey: "sk-…", baseUrl: ${JSON.stringify(location.origin)} });\n${sdk}`;
  $("error").hidden = true;
  $("result").replaceChildren();
  $("status").textContent = `${method} ${path} …`;
  const headers = { authorization: `Bearer ${key}` };
  if (body && !(body instanceof FormData)) headers["content-type"] = "application/json";
  // A POST retried by the visitor is a new request here; the SDK reuses its key across its own retries.
  if (method === "POST") headers["idempotency-key"] = crypto.randomUUID();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body instanceof FormData ? body : body && JSON.stringify(body),
    });
  } catch (error) {
    return showError("network_error", String(error));
  }
  const requestId = response.headers.get("x-request-id") ?? "";
  const json = await response.json().catch(() => null);
  $("status").textContent = `${response.status} ${response.statusText} · request ${requestId}`;
  if (!response.ok)
    return showError(
      json?.code ?? `http_${response.status}`,
      json?.detail ?? json?.title ?? "no problem document",
    );
  show(json);
}

function showError(code, message) {
  const box = $("error");
  box.replaceChildren(
    Object.assign(document.createElement("strong"), { textContent: code }),
    document.createTextNode(`: ${message}`),
  );
  box.dataset.code = code;
  box.hidden = false;
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** One image's block: its name, then rows of bars, or its own error (a bad file fails alone, with a code). */
function imageBlock(i, result, rows) {
  const block = el(
    "div",
    { className: "image-result" },
    el("h3", { textContent: names()[i] ?? `image ${i + 1}` }),
  );
  if (result.error) {
    block.append(
      el(
        "p",
        { className: "image-error" },
        el("strong", { textContent: result.error.code }),
        `: ${result.error.message ?? result.error.detail ?? ""}`,
      ),
    );
    if (state.files.length === 1) showError(result.error.code, result.error.message ?? "");
  } else block.append(...rows);
  return block;
}

function bar(label, value, nums) {
  const width = `${Math.max(0, Math.min(1, value)) * 100}%`;
  return el(
    "div",
    { className: "bar" },
    el("span", { className: "label", textContent: label }),
    el(
      "div",
      { className: "track", role: "img", ariaLabel: `${label}: ${nums}` },
      el("div", { className: "fill", style: `width:${width}` }),
    ),
    el("span", { className: "nums", textContent: nums }),
  );
}

const need = (files) => {
  if (files && state.files.length === 0) {
    showError("no_photo", "pick or drop a photo first");
    return false;
  }
  return true;
};

$("classify").addEventListener("click", () => {
  if (!need(true)) return;
  const set = $("label-set").value;
  const form = new FormData();
  for (const [i, file] of state.files.entries()) form.append("image", file, names()[i]);
  if (set) form.append("label_set", set);
  else for (const label of labels()) form.append("labels", label);
  const curlLabels = set
    ? `-F label_set=${q(set)}`
    : labels()
        .map((l) => `-F labels=${q(l)}`)
        .join(" ");
  const what = set ? `label_set: ${JSON.stringify(set)}` : `labels: ${JSON.stringify(labels())}`;
  call({
    path: "/v1/classify",
    body: form,
    curl: `curl -s ${location.origin}/v1/classify -H "authorization: Bearer $CLIP_KEY" \\\n  ${names()
      .map((n) => `-F image=@${q(n)}`)
      .join(" ")} ${curlLabels}`,
    sdk: `const answer = await clip.classify({ ${imageArg()}, ${what} });`,
    show: (json) =>
      $("result").append(
        ...json.results.map((r, i) =>
          imageBlock(
            i,
            r,
            (r.labels ?? []).map((l) =>
              bar(l.label, l.score, `score ${l.score.toFixed(3)} · similarity ${l.similarity.toFixed(3)}`),
            ),
          ),
        ),
      ),
  });
});

const imageArg = () => (state.files.length === 1 ? "image: file" : "images: files");

$("captions").addEventListener("click", () => {
  if (!need(true)) return;
  const form = new FormData();
  for (const [i, file] of state.files.entries()) form.append("image", file, names()[i]);
  call({
    path: "/v1/captions",
    body: form,
    curl: `curl -s ${location.origin}/v1/captions -H "authorization: Bearer $CLIP_KEY" \\\n  ${names()
      .map((n) => `-F image=@${q(n)}`)
      .join(" ")}`,
    sdk: `const answer = await clip.caption({ ${imageArg()} });`,
    show: (json) =>
      $("result").append(
        ...json.results.map((r, i) =>
          imageBlock(
            i,
            r,
            (r.captions ?? []).map((c) => bar(c.text, c.score, `score ${c.score.toFixed(3)}`)),
          ),
        ),
      ),
  });
});

$("explain").addEventListener("click", async () => {
  if (!need(true)) return;
  const file = state.files[0];
  const body = { image: { base64: await dataUrl(file) }, labels: labels().slice(0, 8) };
  call({
    path: "/v1/explain",
    body,
    curl: `curl -s ${location.origin}/v1/explain -H "authorization: Bearer $CLIP_KEY" -H "content-type: application/json" \\\n  -d "{\\"image\\": {\\"base64\\": \\"$(base64 -w0 ${q(names()[0])})\\"}, \\"labels\\": ${JSON.stringify(body.labels).replaceAll('"', '\\"')}}"`,
    sdk: `const answer = await clip.explain({ image: file, labels: ${JSON.stringify(body.labels)} });`,
    show: (json) => drawHeatmaps(file, json),
  });
});

/** Draws each label's grid over the photo as it was cropped (the answer's `crop`), red where hiding a cell hurt most. */
async function drawHeatmaps(file, json) {
  const bitmap = await createImageBitmap(file);
  const crop = json.crop ?? { x: 0, y: 0, width: bitmap.width, height: bitmap.height };
  for (const r of json.results) {
    const canvas = el("canvas", { width: 224, height: 224 });
    canvas.setAttribute("role", "img");
    canvas.setAttribute(
      "aria-label",
      `Heatmap for ${r.label}: peak at x ${Math.round(r.peak.x)}, y ${Math.round(r.peak.y)}`,
    );
    const g = canvas.getContext("2d");
    g.drawImage(bitmap, crop.x, crop.y, crop.width, crop.height, 0, 0, 224, 224);
    const { rows, cols, scores } = r.grid;
    for (let y = 0; y < rows; y++)
      for (let x = 0; x < cols; x++) {
        g.fillStyle = `rgba(255, 0, 0, ${0.6 * (scores[y][x] ?? 0)})`;
        g.fillRect((x * 224) / cols, (y * 224) / rows, 224 / cols, 224 / rows);
      }
    $("result").append(
      el(
        "figure",
        { className: "heat" },
        canvas,
        el("figcaption", {
          textContent: `${r.label} · score ${r.score.toFixed(3)} · similarity ${r.similarity.toFixed(3)}`,
        }),
      ),
    );
  }
}

$("search").addEventListener("click", async () => {
  const name = $("collection").value.trim();
  if (!name) return showError("no_collection", "type a collection's name first");
  const text = $("query-text").value.trim();
  if (!text && !need(true)) return;
  const body = text ? { text, top_k: 10 } : { image: { base64: await dataUrl(state.files[0]) }, top_k: 10 };
  const path = `/v1/collections/${encodeURIComponent(name)}/query`;
  call({
    path,
    body,
    curl: text
      ? `curl -s ${location.origin}${path} -H "authorization: Bearer $CLIP_KEY" -H "content-type: application/json" \\\n  -d ${q(JSON.stringify(body))}`
      : `curl -s ${location.origin}${path} -H "authorization: Bearer $CLIP_KEY" -H "content-type: application/json" \\\n  -d "{\\"image\\": {\\"base64\\": \\"$(base64 -w0 ${q(names()[0])})\\"}, \\"top_k\\": 10}"`,
    sdk: `const answer = await clip.queryCollection(${JSON.stringify(name)}, { ${text ? `text: ${JSON.stringify(text)}` : "image: file"}, top_k: 10 });`,
    show: (json) => {
      const matches = json.matches ?? json.data ?? json.results ?? [];
      if (matches.length === 0) $("result").append(el("p", { textContent: "No matches." }));
      $("result").append(...matches.map((m) => bar(m.id, m.score, `score ${m.score.toFixed(3)}`)));
    },
  });
});

$("moderate").addEventListener("click", async () => {
  if (!need(true)) return;
  const policy = $("policy").value.trim() || "default";
  const input = await Promise.all(state.files.map(async (f) => ({ image: { base64: await dataUrl(f) } })));
  call({
    path: "/v1/moderations",
    body: { input, policy },
    curl: `curl -s ${location.origin}/v1/moderations -H "authorization: Bearer $CLIP_KEY" -H "content-type: application/json" \\\n  -d "{\\"policy\\": \\"${policy}\\", \\"input\\": [{\\"image\\": {\\"base64\\": \\"$(base64 -w0 ${q(names()[0])})\\"}}]}"`,
    sdk: `const answer = await clip.createModeration({ policy: ${JSON.stringify(policy)}, input: [{ image: file }] });`,
    show: (json) =>
      $("result").append(
        ...json.results.map((r, i) =>
          imageBlock(i, r, [
            el("p", { textContent: r.flagged ? "Flagged" : "Not flagged" }),
            ...Object.entries(r.category_scores ?? {}).map(([c, s]) =>
              bar(c, s, `score ${s.toFixed(3)}${r.categories?.[c] ? " · flagged" : ""}`),
            ),
          ]),
        ),
      ),
  });
});

$("load-sets").addEventListener("click", () =>
  call({
    method: "GET",
    path: "/v1/label-sets",
    curl: `curl -s ${location.origin}/v1/label-sets -H "authorization: Bearer $CLIP_KEY"`,
    sdk: "const sets = await clip.listLabelSets();",
    show: (json) => {
      const select = $("label-set");
      select.replaceChildren(
        el("option", { value: "", textContent: "(typed labels)" }),
        ...json.data
          .filter((s) => s.status === "ready")
          .map((s) => el("option", { value: s.id, textContent: `${s.name} (${s.label_count} labels)` })),
      );
      $("result").append(el("p", { textContent: `${json.data.length} label set(s) loaded.` }));
    },
  }),
);

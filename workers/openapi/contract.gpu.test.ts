import { describe, expect, it } from "vitest";
import { IMAGE_FETCH_USER_AGENT } from "../../src/net/index.ts";
import {
  CONTRACT_EXAMPLES,
  CONTRACT_POLICY,
  type ExampleCall,
  exampleCalls,
} from "../../test/support/openapi-contract.ts";
import { admin, createKey, edge } from "../../test/support/workers/billing.ts";
import { DOCUMENT } from "../../test/support/workers/contract.ts";

/** Each operation called with its own documented example, then with something it must refuse. */
describe("live answers match the document (every answer of every Worker test is also checked)", async () => {
  const created = await createKey({ plan: "wide" });
  const post = async (path: string, body: unknown) =>
    (await (
      await edge(path, {
        key: created.key,
        init: { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } },
      })
    ).json()) as { id: string };
  // What the operations on one label set or policy need: ones of the key's own (ids are the API's, so made first),
  // the policy with the category its examples' example names and enough examples to calibrate.
  const labelSet = await post("/v1/label-sets", { name: "contract", labels: ["red circle"] });
  const policy = await post("/v1/moderation/policies", CONTRACT_POLICY);
  await post(`/v1/moderation/policies/${policy.id}/examples`, CONTRACT_EXAMPLES);
  const all = exampleCalls(DOCUMENT, {
    keyId: created.id,
    itemId: "red-circle.png",
    labelSetId: labelSet.id,
    policyId: policy.id,
  });
  // The key's revocation comes last, on its own: every other call uses the key.
  const calls = all.filter((o) => !o.template.endsWith("/revoke"));
  const call = (o: ExampleCall, body: unknown, auth: ExampleCall["auth"] = o.auth) => {
    const init: RequestInit = { method: o.method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    if (auth === "admin") return admin(o.path, init);
    return edge(o.path, { key: auth === "api" ? created.key : null, init });
  };

  it.each(calls)("$method $template answers its request example", async (o) => {
    const response = await call(o, o.example);
    expect(response.status, await response.clone().text()).toBeLessThan(300);
  });

  it.each(calls.filter((o) => o.bodyRequired))("$method $template refuses an empty object", async (o) => {
    expect((await call(o, {})).status).toBe(400);
  });

  it.each(calls.filter((o) => o.auth !== "none"))(
    "$method $template refuses a request without credentials",
    async (o) => {
      expect((await call(o, o.example, "none")).status).toBe(401);
    },
  );

  it.each(calls)("$method $template refuses clip-edge's own image fetcher", async (o) => {
    const response = await edge(o.path, {
      key: created.key,
      init: { method: o.method, headers: { "user-agent": IMAGE_FETCH_USER_AGENT } },
    });
    expect(response.status).toBe(403);
  });

  it("revokes the key with its example, after every other call", async () => {
    const revoke = all.find((o) => o.template.endsWith("/revoke")) as ExampleCall;
    const response = await call(revoke, revoke.example);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("revoked");
  });
});

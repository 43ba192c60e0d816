/**
 * The image URLs of the bad-input corpus: every one must be refused with 400 `invalid_image_url`, whichever tier
 * decides. The edge refuses what the text shows (not https, credentials, a local name, a non-public IP literal in
 * any spelling, its own host, a backend's host); a host *name* goes to the GPU tier, which resolves it (honouring
 * /etc/hosts) and refuses a loopback or private answer — so those cases need the GPU tier to be judged.
 */

export interface UrlCase {
  /** What the URL is, for the report. */
  name: string;
  url: string;
  /** Only the GPU tier can tell (the name must be resolved). */
  needsGpu: boolean;
}

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Every name a hosts file maps to a loopback address (127.0.0.0/8, ::1), in file order, each once. Comments and
 * other addresses are skipped.
 *
 * @example loopbackHostNames("127.0.0.1 localhost vm\n10.0.0.2 db # no\n::1 ip6-localhost") // ["localhost", "vm", "ip6-localhost"]
 */
export function loopbackHostNames(hostsFile: string): string[] {
  const names = new Set<string>();
  for (const line of hostsFile.split("\n")) {
    const [address, ...aliases] = (line.split("#")[0] ?? "").trim().split(/\s+/);
    if (!address || !(LOOPBACK_V4.test(address) || address === "::1")) continue;
    for (const alias of aliases) if (alias) names.add(alias.toLowerCase());
  }
  return [...names];
}

/**
 * The hostile image URLs: http, credentials, `localhost`, each loopback name of the hosts file, 127.0.0.1 in
 * decimal, hex, octal, short and IPv4-mapped spellings, `[::1]`, `0.0.0.0`, the metadata address, private and
 * CGNAT addresses, a `.local` and a `.internal` name, the edge's own host and port and the GPU service's port.
 *
 * @example imageUrlCases({ edgeUrl: "http://127.0.0.1:8787", gpuUrl: "http://127.0.0.1:8788", hostsFile: "" })[0].url // "http://example.com/cat.jpg"
 */
export function imageUrlCases(where: { edgeUrl: string; gpuUrl: string; hostsFile: string }): UrlCase[] {
  const edge = new URL(where.edgeUrl);
  const gpu = new URL(where.gpuUrl);
  const byText = (name: string, url: string): UrlCase => ({ name, url, needsGpu: false });
  const cases: UrlCase[] = [
    byText("http, not https", "http://example.com/cat.jpg"),
    byText("credentials in the URL", "https://user:secret@example.com/cat.jpg"),
    byText("localhost", "https://localhost/cat.jpg"),
    byText("127.0.0.1 in decimal", "https://2130706433/cat.jpg"),
    byText("127.0.0.1 in hex", "https://0x7f000001/cat.jpg"),
    byText("127.0.0.1 in octal", "https://0177.0.0.1/cat.jpg"),
    byText("127.0.0.1 shortened", "https://127.1/cat.jpg"),
    byText("127.0.0.1 IPv4-mapped", "https://[::ffff:127.0.0.1]/cat.jpg"),
    byText("IPv6 loopback", "https://[::1]/cat.jpg"),
    byText("0.0.0.0", "https://0.0.0.0/cat.jpg"),
    byText("the metadata address", "https://169.254.169.254/latest/meta-data/"),
    byText("a private address", "https://10.0.0.1/cat.jpg"),
    byText("a private address (192.168)", "https://192.168.1.1/cat.jpg"),
    byText("a CGNAT address", "https://100.64.0.1/cat.jpg"),
    byText("a .local name", "https://printer.local/scan.jpg"),
    byText("a .internal name", "https://metadata.google.internal/computeMetadata/v1/"),
    byText("the edge's own host and port", `https://${edge.host}/v1/models`),
    byText("the GPU service's port", `https://${gpu.hostname}:${gpu.port || "443"}/v1/embed/images`),
    byText("not a URL", "not a url"),
  ];
  for (const name of loopbackHostNames(where.hostsFile))
    if (name !== "localhost")
      cases.push({
        name: `${name} (loopback in /etc/hosts)`,
        url: `https://${name}/cat.jpg`,
        needsGpu: true,
      });
  return cases;
}

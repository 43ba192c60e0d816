import { readFileSync } from "node:fs";
import { classifyAddress } from "../../src/net/index.ts";

/**
 * Every host name the hosts file maps to a loopback address, plus `localhost`: read at test time, because each
 * machine has its own (this one's has `vm` and `runsc`). These are the names the old text-only check let through.
 *
 * @example loopbackHostNames("127.0.0.1 localhost vm\n::1 ip6-localhost\n10.0.0.1 db") → ["localhost", "vm", "ip6-localhost"]
 */
export function loopbackHostNames(hostsFile = readHostsFile()): string[] {
  const names = new Set(["localhost"]);
  for (const line of hostsFile.split("\n")) {
    const [address, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || !aliases.length) continue;
    const verdict = classifyAddress(address);
    if (!verdict.public && verdict.reason === "loopback") for (const alias of aliases) names.add(alias);
  }
  return [...names];
}

function readHostsFile(): string {
  try {
    return readFileSync("/etc/hosts", "utf8");
  } catch {
    return "";
  }
}

import { describe, expect, it } from "vitest";
import { parseAllowList } from "./allow-list.ts";

describe("parseAllowList (URL_FETCH_ALLOW, IMAGE_URL_ALLOW)", () => {
  it("matches addresses and CIDR ranges of either family, in any spelling", () => {
    const parsed = parseAllowList(" 10.20.0.0/16, fd12:3456::/32 ,192.168.1.7");
    if (!parsed.ok) throw new Error(parsed.message);
    const { list } = parsed;
    expect(list.entries).toEqual(["10.20.0.0/16", "fd12:3456::/32", "192.168.1.7"]);
    expect(
      ["10.20.3.4", "::ffff:10.20.255.255", "fd12:3456:1::9", "192.168.1.7"].map((a) => list.has(a)),
    ).toEqual([true, true, true, true]);
    expect(
      ["10.21.0.1", "192.168.1.8", "fd12:3457::1", "127.0.0.1", "not an address"].map((a) => list.has(a)),
    ).toEqual([false, false, false, false, false]);
  });

  it("is empty when unset, and names a bad entry", () => {
    const empty = parseAllowList(undefined);
    expect(empty.ok && empty.list.has("10.0.0.1")).toBe(false);
    expect(parseAllowList("10.0.0.0/8, intranet")).toEqual({
      ok: false,
      message: '"intranet" is neither an IP address nor a CIDR range',
    });
    expect(parseAllowList("10.0.0.0/33").ok).toBe(false);
  });
});

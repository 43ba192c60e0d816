import { describe, expect, it } from "vitest";
import { exemptedByAllowList } from "../src/net/index.ts";
import { ConfigError, readServiceConfig } from "./config.ts";

const base = { GPU_SHARED_SECRET: "s".repeat(32) };

describe("URL_FETCH_ALLOW", () => {
  it("opens a 10.x range", () => {
    const { urlFetchAllow } = readServiceConfig({ ...base, URL_FETCH_ALLOW: "10.20.0.0/16" });
    expect(exemptedByAllowList("10.20.30.40", urlFetchAllow)).toBe(true);
    expect(exemptedByAllowList("10.21.0.1", urlFetchAllow)).toBe(false);
  });

  it.each([
    ["127.0.0.2", /^URL_FETCH_ALLOW: "127\.0\.0\.2" is a loopback address, which no allow list may open/],
    ["10.0.0.0/8,::1", /^URL_FETCH_ALLOW: "::1" is a loopback address/],
    ["169.254.169.254", /is a cloud metadata address/],
    ["0.0.0.0/0", /holds an unspecified address/],
    ["10.0.0.0/6", /is wider than \/8/],
  ])("refuses %j at start with a clear message", (value, message) => {
    expect(() => readServiceConfig({ ...base, URL_FETCH_ALLOW: value })).toThrow(ConfigError);
    expect(() => readServiceConfig({ ...base, URL_FETCH_ALLOW: value })).toThrow(message);
  });
});

describe("URL_FETCH_DENY", () => {
  it("is empty by default and takes public addresses and ranges", () => {
    expect(readServiceConfig(base).urlFetchDeny.entries).toEqual([]);
    const { urlFetchDeny } = readServiceConfig({ ...base, URL_FETCH_DENY: "203.0.113.7, 10.9.0.0/16" });
    expect(["203.0.113.7", "10.9.8.7", "203.0.113.8"].map((a) => urlFetchDeny.has(a))).toEqual([
      true,
      true,
      false,
    ]);
    expect(() => readServiceConfig({ ...base, URL_FETCH_DENY: "gpu.example.com" })).toThrow(
      'URL_FETCH_DENY: "gpu.example.com" is neither an IP address nor a CIDR range',
    );
  });
});

describe("URL_FETCH_LOOKUPS", () => {
  it("defaults to half of libuv's thread pool, at least 1", () => {
    expect(readServiceConfig(base).urlFetchLookups).toBe(2);
    expect(readServiceConfig({ ...base, UV_THREADPOOL_SIZE: "16" }).urlFetchLookups).toBe(8);
    expect(readServiceConfig({ ...base, UV_THREADPOOL_SIZE: "1" }).urlFetchLookups).toBe(1);
    expect(readServiceConfig({ ...base, URL_FETCH_LOOKUPS: "3" }).urlFetchLookups).toBe(3);
  });

  it("must leave libuv at least one thread", () => {
    expect(() => readServiceConfig({ ...base, URL_FETCH_LOOKUPS: "4" })).toThrow(
      "URL_FETCH_LOOKUPS must leave libuv a thread: at most 3 with UV_THREADPOOL_SIZE=4, got 4",
    );
    expect(() => readServiceConfig({ ...base, URL_FETCH_LOOKUPS: "0" })).toThrow(ConfigError);
  });
});

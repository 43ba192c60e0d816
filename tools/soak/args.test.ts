import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMix, parseSoakArgs, type SoakOptions } from "./args.ts";
import { isLoopbackUrl } from "./loopback.ts";

const noDevVars = join(tmpdir(), "no-such-dev-vars");
const env = { ADMIN_TOKEN: "from-env" };
const options = (argv: string[], environment: Record<string, string> = env, devVars = noDevVars) => {
  const args = parseSoakArgs(argv, environment, devVars);
  if (args.help) throw new Error("expected options, got --help");
  return args.options;
};

describe("npm run soak -- arguments", () => {
  it("has the documented defaults", () => {
    expect(options(["--seed", "1"])).toEqual({
      url: "http://127.0.0.1:8787",
      adminToken: "from-env",
      clients: 64,
      seconds: 60,
      rate: undefined,
      arrivals: "poisson",
      maxInFlight: 512,
      calibrateSeconds: 20,
      deadlineMs: 30_000,
      mix: [
        { route: "classify", weight: 1 },
        { route: "embeddings", weight: 1 },
        { route: "captions", weight: 1 },
      ],
      fault: undefined,
      retries: 3,
      timeoutSeconds: 35,
      settleSeconds: 60,
      plan: "pro",
      seed: 1,
      json: undefined,
      gpuUrl: undefined,
      gpuSecret: undefined,
      stateFile: ".wrangler/local-stack.json",
    } satisfies SoakOptions);
    expect(parseSoakArgs(["-h"], {}, noDevVars)).toEqual({ help: true });
    // A stack started with its own LOCAL_STACK_DIR keeps its state file there.
    expect(options([], { ...env, LOCAL_STACK_DIR: "/tmp/stack" }).stateFile).toBe(
      "/tmp/stack/local-stack.json",
    );
    expect(options(["--state-file", "s.json"], { ...env, LOCAL_STACK_DIR: "/tmp/stack" }).stateFile).toBe(
      "s.json",
    );
  });

  it("reads every option", () => {
    expect(
      options([
        "--clients=16",
        "--seconds",
        "20",
        "--mix",
        "classify:3,captions",
        "--fault",
        "term-gpu",
        "--retries",
        "0",
        "--timeout",
        "2.5",
        "--json",
        "out.json",
        "--url",
        "http://localhost:9000/ignored/path",
        "--gpu-url",
        "http://[::1]:9001",
        "--admin-token",
        "from-flag",
      ]),
    ).toMatchObject({
      clients: 16,
      seconds: 20,
      mix: [
        { route: "classify", weight: 3 },
        { route: "captions", weight: 1 },
      ],
      fault: "term-gpu",
      retries: 0,
      timeoutSeconds: 2.5,
      json: "out.json",
      url: "http://localhost:9000",
      gpuUrl: "http://[::1]:9001",
      adminToken: "from-flag",
    });
  });

  it("takes the admin token from the flag, then the environment, then .dev.vars; the GPU secret likewise", () => {
    const devVars = join(mkdtempSync(join(tmpdir(), "soak-args-")), ".dev.vars");
    writeFileSync(devVars, "GPU_SHARED_SECRET=secret-from-dev-vars\nADMIN_TOKEN=token-from-dev-vars\n");
    expect(options([], {}, devVars)).toMatchObject({
      adminToken: "token-from-dev-vars",
      gpuSecret: "secret-from-dev-vars",
    });
    expect(options([], { ADMIN_TOKEN: "e", GPU_SHARED_SECRET: "s" }, devVars)).toMatchObject({
      adminToken: "e",
      gpuSecret: "s",
    });
    expect(options(["--admin-token", "f"], { ADMIN_TOKEN: "e" }, devVars).adminToken).toBe("f");
    expect(() => parseSoakArgs([], {}, noDevVars)).toThrow(/no admin token/);
  });

  it.each([
    [["--clients", "0"], /--clients must be a number from 1 to 1024/],
    [["--clients", "2.5"], /--clients must be a whole number/],
    [["--clients", "many"], /--clients must be a number/],
    [["--seconds", ""], /--seconds must be a number/],
    [["--seconds", "7200"], /--seconds must be a number from 0.5 to 3600/],
    [["--retries", "11"], /--retries must be a number from 0 to 10/],
    [["--fault", "kill-edge"], /--fault must be kill-gpu or term-gpu/],
    [["--mix", "classify,search"], /--mix: "search" is not one of classify, embeddings, captions, bad/],
    [["--rate", "0"], /--rate must be a number from 0.1 to 1000/],
    [["--rate", "fast"], /--rate must be a number/],
    [["--rate", "20x"], /--rate: the multiple of the served rate must be from 0.1 to 10/],
    [["--arrivals", "bursty"], /--arrivals must be poisson or even/],
    [["--max-in-flight", "0"], /--max-in-flight must be a number from 1 to 10000/],
    [["--deadline-ms", "500"], /--deadline-ms must be a number from 1000 to 120000/],
    [["--calibrate", "0"], /--calibrate must be a number from 1 to 600/],
    [["--mix", "classify,classify:2"], /--mix: classify is named twice/],
    [["--mix", "captions:0"], /the weight of captions must be above 0/],
    [["--url", "https://api.example.com"], /--url: the soak only runs against this machine/],
    [["--gpu-url", "http://10.0.0.7:8788"], /--gpu-url: .*10\.0\.0\.7 is not a loopback address/],
    [["--url", "not a url"], /is not a URL/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["extra"], /unexpected argument "extra"/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseSoakArgs(argv, env, noDevVars)).toThrow(message);
  });

  it("reads the open loop, the deadline and a mix with bad input", () => {
    expect(
      options(["--rate", "40", "--arrivals", "even", "--max-in-flight", "64", "--mix", "classify,bad:1"]),
    ).toMatchObject({
      rate: { perSecond: 40 },
      arrivals: "even",
      maxInFlight: 64,
      mix: [
        { route: "classify", weight: 1 },
        { route: "bad", weight: 1 },
      ],
    });
    expect(options(["--rate", "2x", "--calibrate", "15"])).toMatchObject({
      rate: { timesServed: 2 },
      calibrateSeconds: 15,
    });
    expect(options(["--rate", "1.5X"]).rate).toEqual({ timesServed: 1.5 });
  });

  it("times attempts out 5 s after the deadline unless told otherwise, so a late answer is seen", () => {
    expect(options([])).toMatchObject({ deadlineMs: 30_000, timeoutSeconds: 35 });
    expect(options(["--deadline-ms", "10000"])).toMatchObject({ deadlineMs: 10_000, timeoutSeconds: 15 });
    expect(options(["--deadline-ms", "10000", "--timeout", "1"])).toMatchObject({ timeoutSeconds: 1 });
  });

  it("parses a weighted mix", () => {
    expect(parseMix(" embeddings:0.5 , captions ")).toEqual([
      { route: "embeddings", weight: 0.5 },
      { route: "captions", weight: 1 },
    ]);
  });
});

describe("the loopback check", () => {
  it.each([
    "http://127.0.0.1:8787",
    "http://127.1:8787", // the URL parser normalises it to 127.0.0.1
    "http://0x7f000001/",
    "https://127.255.0.9",
    "http://localhost:8787",
    "http://[::1]:8787",
    "http://[::ffff:127.0.0.1]:8787",
  ])("accepts %s", (url) => {
    expect(isLoopbackUrl(url).ok).toBe(true);
  });

  it.each([
    ["https://api.example.com", /api\.example\.com is not a loopback address/],
    ["http://127.0.0.1.nip.io", /is not a loopback address/],
    ["http://localhost.example.com", /is not a loopback address/],
    ["http://10.0.0.1:8787", /10\.0\.0\.1 is not a loopback address/],
    ["http://0.0.0.0:8787", /is not a loopback address/],
    ["http://[::]:8787", /is not a loopback address/],
    ["http://[::ffff:10.0.0.1]", /is not a loopback address/],
    ["ftp://127.0.0.1", /ftp: is not http: or https:/],
    ["http://user:pass@127.0.0.1", /must not carry credentials/],
    ["127.0.0.1:8787", /is not http: or https:|is not a URL/],
  ])("refuses %s", (url, reason) => {
    const check = isLoopbackUrl(url);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });
});

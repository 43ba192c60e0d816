import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseKeysArgs } from "./args.ts";

const noDevVars = join(tmpdir(), "no-such-dev-vars");

describe("npm run keys -- arguments", () => {
  it("reads create, list and revoke with their options", () => {
    const env = { ADMIN_TOKEN: "from-env" };
    expect(parseKeysArgs(["create", "--name", "iOS app", "--plan", "pro"], env, noDevVars)).toEqual({
      target: { url: "http://127.0.0.1:8787", adminToken: "from-env" },
      run: { command: "create", name: "iOS app", plan: "pro", account: undefined },
    });
    expect(parseKeysArgs(["list", "--account", "acme", "--json"], env, noDevVars)).toMatchObject({
      run: { command: "list", account: "acme", json: true },
    });
    expect(parseKeysArgs(["revoke", "key_0123456789abcdef"], env, noDevVars)).toMatchObject({
      run: { command: "revoke", id: "key_0123456789abcdef" },
    });
    expect(parseKeysArgs(["--help"], {}, noDevVars)).toEqual({ help: true });
  });

  it("takes the URL and token from flags, then the environment, then .dev.vars", () => {
    const dir = mkdtempSync(join(tmpdir(), "keys-args-"));
    const devVars = join(dir, ".dev.vars");
    writeFileSync(devVars, "GPU_SHARED_SECRET=x\nADMIN_TOKEN=from-dev-vars\n");
    expect(parseKeysArgs(["list"], {}, devVars).toString()).toBeTruthy();
    expect(parseKeysArgs(["list"], {}, devVars)).toMatchObject({ target: { adminToken: "from-dev-vars" } });
    expect(parseKeysArgs(["list"], { ADMIN_TOKEN: "env", EDGE_URL: "http://e.test" }, devVars)).toMatchObject(
      {
        target: { adminToken: "env", url: "http://e.test" },
      },
    );
    expect(
      parseKeysArgs(
        ["list", "--admin-token", "flag", "--url", "http://f.test"],
        { ADMIN_TOKEN: "env" },
        devVars,
      ),
    ).toMatchObject({ target: { adminToken: "flag", url: "http://f.test" } });
  });

  it("explains what is wrong", () => {
    const env = { ADMIN_TOKEN: "t" };
    expect(() => parseKeysArgs([], env, noDevVars)).toThrow(/name a command/);
    expect(() => parseKeysArgs(["rotate"], env, noDevVars)).toThrow(/unknown command "rotate"/);
    expect(() => parseKeysArgs(["create"], env, noDevVars)).toThrow(/--name/);
    expect(() => parseKeysArgs(["revoke"], env, noDevVars)).toThrow(/exactly one key id/);
    expect(() => parseKeysArgs(["list", "--url", "not a url"], env, noDevVars)).toThrow(/--url/);
    expect(() => parseKeysArgs(["list"], {}, noDevVars)).toThrow(/no admin token/);
    expect(() => parseKeysArgs(["list", "--colour"], env, noDevVars)).toThrow();
  });
});

import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main.ts";

async function run(argv: string[], env: Record<string, string> = { ADMIN_TOKEN: "t" }) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, env, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("npm run soak -- (the CLI)", () => {
  it("prints its usage for --help, and exits 2 with the reason and the usage on bad arguments", async () => {
    expect(await run(["--help"])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("Usage: npm run soak"),
    });
    const refused = await run(["--url", "https://api.example.com"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^soak: --url: the soak only runs against this machine/);
    expect(refused.stderr).toContain("Usage: npm run soak");
  });

  it("exits 1 with one line when it cannot start: no stack to fault, or no edge to create a key on", async () => {
    const stateFile = join(tmpdir(), "no-such-local-stack.json");
    const noFault = await run(["--fault", "kill-gpu", "--state-file", stateFile]);
    expect(noFault).toMatchObject({ code: 1, stdout: "" });
    expect(noFault.stderr).toMatch(/--fault needs the GPU's pid: .*does not exist/);
    const port = await closedPort();
    const noEdge = await run(["--url", `http://127.0.0.1:${port}`, "--state-file", stateFile]);
    expect(noEdge).toMatchObject({ code: 1, stdout: "" });
    expect(noEdge.stderr).toMatch(/^soak: cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });
});

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  key: string;
  cert: string;
}

/**
 * A throwaway self-signed certificate for the given IP addresses and host names, made with the `openssl` CLI in a
 * temporary folder that is removed at once (no key is ever committed). Throws when openssl is missing: these tests
 * need it.
 */
export function selfSignedCertificate(
  ips: readonly string[] = ["127.0.0.1", "127.0.0.2"],
  names: readonly string[] = ["localhost"],
): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-cert-"));
  try {
    const san = [...names.map((name) => `DNS:${name}`), ...ips.map((ip) => `IP:${ip}`)].join(",");
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-days", "1", "-subj", "/CN=clip-edge-test", "-addext", `subjectAltName=${san}`],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ],
      { stdio: "pipe" },
    );
    return {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A listener that counts the TCP connections it accepted — the proof that a refused URL was never connected to. */
export interface CountingServer {
  host: string;
  port: number;
  /** TCP connections accepted, counted before any TLS or HTTP. */
  readonly connections: number;
  /** Request headers, in order (HTTPS servers only). */
  readonly requests: { url: string; headers: IncomingHttpHeaders }[];
  /** `https://host:port/path`, IPv6 hosts bracketed. */
  url(path?: string): string;
  close(): Promise<void>;
}

/** A real HTTPS server on `host` (127.0.0.2 by default: no /etc/hosts name points there). */
export function startHttpsServer(
  certificate: TestCertificate,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  host = "127.0.0.2",
): Promise<CountingServer> {
  const requests: CountingServer["requests"] = [];
  const server = createHttpsServer(certificate, (request, response) => {
    requests.push({ url: request.url ?? "", headers: request.headers });
    handler(request, response);
  });
  return listenCounting(server, host, requests);
}

/** A plain TCP server (no TLS): what an open port of some other service looks like. */
export function startTcpServer(
  onSocket: (socket: Socket) => void,
  host = "127.0.0.2",
): Promise<CountingServer> {
  return listenCounting(createTcpServer(onSocket), host, []);
}

/** A port on `host` that nothing listens on (bound once, then released). */
export async function closedPort(host = "127.0.0.2"): Promise<number> {
  const server = await startTcpServer(() => {}, host);
  await server.close();
  return server.port;
}

async function listenCounting(
  server: Server,
  host: string,
  requests: CountingServer["requests"],
): Promise<CountingServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    host,
    port,
    get connections() {
      return connections;
    },
    requests,
    url: (path = "/") => `https://${hostInUrl}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

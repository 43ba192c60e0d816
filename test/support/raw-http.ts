// node:http requests for tests that need control fetch() does not give: a body sent in parts, a chosen connection.
import { type Agent, type IncomingHttpHeaders, request } from "node:http";
import { CONTENT_TYPE } from "../../src/protocol/index.ts";
import { signRequest } from "../../src/signing/index.ts";
import { TEST_SECRET } from "./gpu-service.ts";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Whether the request went over a kept-alive connection an earlier request had used. */
  reusedSocket: boolean;
}

export interface PartialPost {
  /** Resolves when the answer has arrived in full; rejects if the connection breaks first. */
  response: Promise<RawResponse>;
  /** Sends the rest of the body and ends the request. */
  sendRest(): void;
}

/**
 * A signed POST (signed over the whole body, as the edge signs) whose headers and first `firstBytes` bytes (half the
 * body unless told) go out at once, the rest only on `sendRest()`: a request mid-body for as long as the test wants.
 *
 * @example const upload = await postInParts(`${url}/v1/embed/images`, body); …; upload.sendRest();
 */
export async function postInParts(
  url: string,
  body: Uint8Array,
  firstBytes = Math.floor(body.length / 2),
  agent?: Agent,
): Promise<PartialPost> {
  const { pathname, search, hostname, port } = new URL(url);
  const signed = await signRequest({ secret: TEST_SECRET, method: "POST", path: pathname + search, body });
  const req = request({
    hostname,
    port,
    path: pathname + search,
    method: "POST",
    agent,
    headers: { ...signed, "content-type": CONTENT_TYPE, "content-length": String(body.length) },
  });
  const response = collect(req);
  // A test that fails before awaiting it should report its own failure, not this request's broken connection.
  response.catch(() => {});
  req.write(body.subarray(0, firstBytes));
  return { response, sendRest: () => req.end(body.subarray(firstBytes)) };
}

/** A signed POST sent in one piece over `agent` (e.g. a keep-alive agent, to choose the connection). */
export async function postWhole(url: string, body: Uint8Array, agent?: Agent): Promise<RawResponse> {
  const upload = await postInParts(url, body, body.length, agent);
  upload.sendRest();
  return upload.response;
}

/** An unsigned GET over `agent`. */
export function getOver(url: string, agent?: Agent): Promise<RawResponse> {
  const { pathname, search, hostname, port } = new URL(url);
  const req = request({ hostname, port, path: pathname + search, method: "GET", agent });
  const response = collect(req);
  req.end();
  return response;
}

function collect(req: ReturnType<typeof request>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // `on`, not `once`: a connection the server closes under an unfinished upload may error more than once.
    req.on("error", reject);
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          reusedSocket: req.reusedSocket,
        }),
      );
    });
  });
}

// The edge's Postgres client: postgres.js over the HYPERDRIVE binding, one per request. A Worker's sockets belong to
// the request that opened them (another request cannot use them), and Hyperdrive keeps the pool to the database
// itself, so a client per request is both required and cheap (Cloudflare's Hyperdrive + postgres.js guide says the
// same). Schema: migrations/postgres/.
import postgres, { type Sql } from "postgres";
import { ApiError } from "../../errors.ts";

/**
 * How every client of ours talks to Postgres, behind Hyperdrive and on local PGlite alike:
 * - `prepare: false`: unnamed statements. PGlite's server shares one session between all connections, where named
 *   statements collide; and a prepared statement run 5 times switches to a generic plan that skips the HNSW index.
 * - `fetch_types: false`: no type lookup round trip per connection. Arrays then go out malformed ("a,b"), so send a
 *   batch as one jsonb value and unpack it in SQL (`jsonb_to_recordset`); vectors go as their text, `[0.1,0.2]`.
 * - `max: 3`: a request's connections count against the Worker's 6 simultaneous open connections, which its GPU
 *   fetches share. A transaction holds one.
 * Session settings must be `SET LOCAL` inside a transaction (`sql.begin`): a plain SET would outlive the request on
 * a pooled (or PGlite's shared) session.
 */
const CLIENT_OPTIONS = {
  prepare: false,
  fetch_types: false,
  max: 3,
  // Connect timeout in seconds: a database that does not answer fails the request instead of holding it.
  connect_timeout: 10,
} as const;

export interface SqlClient {
  sql: Sql;
  /**
   * Closes the client's connections once their queries are done; never rejects. Call it when the request is done
   * with the database (`ctx.waitUntil(client.close())`).
   */
  close(): Promise<void>;
}

/**
 * @example
 * const client = openSqlClient(env.HYPERDRIVE);
 * try {
 *   const rows = await client.sql.unsafe("SELECT id FROM collections WHERE account = $1", [account]);
 * } finally {
 *   ctx.waitUntil(client.close());
 * }
 */
export function openSqlClient(hyperdrive: Pick<Hyperdrive, "connectionString">): SqlClient {
  ignoreReadsOfClosedSockets();
  const sql = postgres(hyperdrive.connectionString, CLIENT_OPTIONS);
  return {
    sql,
    close: async function closeSqlClient() {
      await sql.end({ timeout: 5 }).catch(() => {});
    },
  };
}

/** postgres.js's own codes for a connection that could not be made or went away. */
const CONNECTION_CODES = new Set([
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);
/**
 * SQLSTATEs a retry can cure: connection exceptions (08…), insufficient resources (53…), a server shutting down or
 * starting (57P01–57P03), a statement timeout (57014), and the transactions Postgres gives up to order others
 * (serialisation failure 40001, deadlock 40P01) — none of them wrote anything.
 */
const RETRYABLE_STATE = /^(08...|53...|57P0[1-3]|57014|40001|40P01)$/;

/**
 * The API's answer to a database that failed us — unreachable, gone mid-request, out of time or out of resources:
 * a 503 `database_unavailable` with `Retry-After`, never a bare 500. Anything else (a bug in our SQL) is not one.
 *
 * @example app.onError(handleError(console.error, console.info, [databaseFault]))
 */
export function databaseFault(error: unknown): ApiError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const fault =
    (typeof code === "string" &&
      (CONNECTION_CODES.has(code) || (error.name === "PostgresError" && RETRYABLE_STATE.test(code)))) ||
    isUnreachable(error);
  if (!fault) return undefined;
  return new ApiError("database_unavailable", "the collections database could not answer; retry shortly", {
    retryAfterSeconds: 2,
    log: `database fault: ${typeof code === "string" ? `${code} ` : ""}${error.message}`,
  });
}

/**
 * A socket that could not reach the database or lost it: workerd's words for a refused or broken connection (a local
 * Postgres that is down; in production Hyperdrive answers the socket itself and reports the origin's failure as a
 * Postgres error, which the SQLSTATEs above cover).
 */
function isUnreachable(error: Error): boolean {
  return /cannot connect to the specified address|network connection lost|connection (was )?(refused|reset)/i.test(
    error.message,
  );
}

/**
 * postgres.js on Workers (its cf/polyfills.js socket) keeps a read pending on each connection. When the connection
 * closes — `end()`, or the server hanging up — postgres.js first handles the close and removes its listeners, then
 * the pending read fails with "This socket has been closed."; emitted as an "error" event nobody listens to any more,
 * it becomes an unhandled rejection. Under `wrangler dev` it appears when a client is closed while its request goes
 * on (not after `ctx.waitUntil(client.close())` at the end), and in the vitest pool after every `end()`, failing a run
 * whose tests all passed. The failed read carries nothing — the close was already handled — so exactly that
 * rejection is marked handled, once per isolate; every other one still surfaces.
 */
let closedSocketReadsIgnored = false;

function ignoreReadsOfClosedSockets(): void {
  if (closedSocketReadsIgnored) return;
  closedSocketReadsIgnored = true;
  globalThis.addEventListener("unhandledrejection", function ignoreClosedSocketRead(event) {
    if (isClosedSocketRead(event.reason)) event.preventDefault();
  });
}

/** The error workerd's sockets (cloudflare:sockets) give a read after close. */
export function isClosedSocketRead(reason: unknown): boolean {
  return reason instanceof TypeError && reason.message === "This socket has been closed.";
}

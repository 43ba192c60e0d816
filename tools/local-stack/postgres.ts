// The local Postgres: PGlite (Postgres compiled to WASM) with pgvector, its schema migrated, served over TCP on
// loopback by pglite-socket, so the edge reaches it through its Hyperdrive binding exactly as it reaches a real
// Postgres in production. Started by `npm start` and `npm run edge` (as the child postgres-main.ts, data under
// .wrangler/state/postgres) and by the Worker tests' global setup (in memory, on a free port).
//
// What PGlite's server is not: one Postgres session shared by every connection, running one transaction at a time.
// So code must use SET LOCAL inside transactions and unnamed statements (postgres.js `prepare: false`) — both also
// right behind Hyperdrive's transaction-mode pool — and real concurrency is never exercised here.
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { applyMigrations, pgliteDatabase, readMigrations } from "../postgres/migrations.ts";

export interface LocalPostgresOptions {
  /** Where the database persists; in memory when unset (tests). */
  dataDir?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  migrationsDir?: string;
  /**
   * pglite-socket's default is 1: a second client connection fails ("Connection terminated unexpectedly"). Every
   * concurrent Worker request holds its own connections, so allow as many as Postgres's own default.
   */
  maxConnections?: number;
  log?: (line: string) => void;
}

export interface LocalPostgres {
  /** postgres://postgres:postgres@127.0.0.1:PORT/postgres — Hyperdrive wants a password; PGlite ignores it. */
  url: string;
  port: number;
  /** Migration files this start applied (the rest were applied before). */
  applied: string[];
  /** Closes every client connection, then the database (flushed to dataDir). */
  stop(): Promise<void>;
}

/**
 * @example
 * const postgres = await startLocalPostgres({ dataDir: ".wrangler/state/postgres", port: 5433 });
 * // CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE=postgres.url for wrangler dev
 * await postgres.stop();
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const host = options.host ?? "127.0.0.1";
  const migrations = readMigrations(options.migrationsDir);
  // PGlite has no lock on its data directory: a second instance on it would corrupt it. A taken port means another
  // local Postgres is running (npm start's or npm run edge's), so fail before opening the directory.
  if (options.port) await assertPortFree(host, options.port);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    extensions: { vector },
  });
  let server: PGLiteSocketServer | undefined;
  try {
    const result = await applyMigrations(pgliteDatabase(db), migrations);
    if (!result.ok) throw new Error(`Postgres migration ${result.failed} failed: ${result.message}`);
    if (result.applied.length > 0) options.log?.(`Postgres migrations applied: ${result.applied.join(", ")}`);
    keepSequencesTogether(db);
    server = new PGLiteSocketServer({
      db,
      host,
      port: options.port ?? 0,
      maxConnections: options.maxConnections ?? 100,
    });
    await server.start();
    const port = Number(server.getServerConn().split(":").pop());
    const running = server;
    return {
      url: `postgres://postgres:postgres@${host}:${port}/postgres`,
      port,
      applied: result.applied,
      async stop() {
        await running.stop();
        await db.close();
      },
    };
  } catch (error) {
    await server?.stop();
    await db.close();
    throw error;
  }
}

/**
 * pglite-socket runs every connection's messages on PGlite's one session, one message at a time, keeping one
 * connection's turn only while a transaction is open. An extended-protocol exchange (Parse, Bind, Describe, Execute,
 * Sync) is several messages, so two connections' exchanges interleave and one's Bind replaces the other's unnamed
 * portal (`portal "" does not exist`) — concurrent requests broke on the local stack, never on a real Postgres. Until
 * the library keeps an exchange together itself, PGlite reports "in a transaction" from the first message of an
 * exchange to its Sync, which makes the socket server keep that connection's turn for exactly that long.
 */
function keepSequencesTogether(db: PGlite): void {
  const execProtocolRawStream = db.execProtocolRawStream.bind(db);
  const isInTransaction = db.isInTransaction.bind(db);
  const exec = db.exec.bind(db);
  let midExchange = false;
  // Message types that end an exchange: Sync, a simple Query, Terminate; 0 is a startup message (no type byte).
  const ENDS = new Set([0x53, 0x51, 0x58, 0]);
  db.execProtocolRawStream = (message, options) => {
    midExchange = !ENDS.has(message[0] ?? 0);
    return execProtocolRawStream(message, options);
  };
  db.isInTransaction = () => midExchange || isInTransaction();
  // The server rolls back a connection that went away mid-transaction with exec("ROLLBACK"): its exchange is over.
  db.exec = (query, options) => {
    if (/^\s*rollback\b/i.test(query)) midExchange = false;
    return exec(query, options);
  };
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `${host}:${port} is taken (another local Postgres? set POSTGRES_PORT for another one)`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

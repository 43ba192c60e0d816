// What a store's call sent, without copying the store's SQL: a client whose postgres.js `debug` hook records each
// statement a call sends, then the call's last statement run again in a transaction of its own, under the SET LOCALs
// the call sent before it — with EXPLAIN (which plan Postgres chose), or with more settings (what another
// `hnsw.ef_search` would have found).
import postgres, { type Options, type Sql } from "postgres";

export interface StatementProbe {
  sql: Sql;
  /** Runs `call` (which must use `sql`), then returns its last statement's plan: "bitmap(pkey ∧ GIN) → sort". */
  explain(call: () => Promise<unknown>): Promise<string>;
  /**
   * Runs `call`, then its last statement again with `settings` (SET LOCAL statements) after the call's own; returns
   * the rows and the milliseconds of that replayed transaction.
   */
  replay(
    call: () => Promise<unknown>,
    settings: string[],
  ): Promise<{ rows: Record<string, unknown>[]; ms: number }>;
  end(): Promise<void>;
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Subplan Name"?: string;
  Plans?: PlanNode[];
}

/**
 * @example
 * const probe = statementProbe(url, { prepare: false });
 * const plan = await probe.explain(() => new ItemStore(probe.sql, collection).search(vector, options));
 */
export function statementProbe(url: string, options: Options<Record<string, never>>): StatementProbe {
  let sent: { text: string; params: unknown[] }[] = [];
  const sql = postgres(url, {
    ...options,
    debug: (_connection, text, params) => void sent.push({ text, params: [...params] }),
  });
  // Replays run on a client of their own, without the debug hook, so their timings are those of a plain client.
  const plain = postgres(url, options);
  async function rerun(call: () => Promise<unknown>, settings: string[], prefix: string) {
    sent = [];
    await call();
    // The call's own settings: SET LOCAL statements, or a `SELECT set_config(…, true)` with its parameters.
    const isSetting = (text: string) => /^\s*(SET LOCAL|SELECT set_config\()/i.test(text);
    const own = sent.filter((s) => isSetting(s.text));
    const last = sent.filter((s) => !isSetting(s.text) && !/^\s*(SET|BEGIN|COMMIT)\b/i.test(s.text)).at(-1);
    if (!last) throw new Error("the call sent no query");
    const started = performance.now();
    const rows = await plain.begin(async (tx) => {
      for (const setting of own) await tx.unsafe(setting.text, setting.params as never[]);
      for (const setting of settings) await tx.unsafe(setting);
      return tx.unsafe(`${prefix}${last.text}`, last.params as never[]);
    });
    return { rows: [...rows] as Record<string, unknown>[], ms: performance.now() - started };
  }
  return {
    sql,
    async explain(call) {
      const { rows } = await rerun(call, [], "EXPLAIN (FORMAT JSON) ");
      const plan = rows[0]?.["QUERY PLAN"];
      const [top] = (typeof plan === "string" ? JSON.parse(plan) : plan) as { Plan: PlanNode }[];
      return top ? summary(top.Plan) : "?";
    },
    replay: (call, settings) => rerun(call, settings, ""),
    end: async () => {
      await Promise.all([sql.end({ timeout: 5 }), plain.end({ timeout: 5 })]);
    },
  };
}

// The nearest-rows subquery's scans and sorts, innermost first: "HNSW index scan", "bitmap(pkey ∧ GIN) → sort".
function summary(plan: PlanNode): string {
  const cte = find(plan, (n) => n["Subplan Name"]?.startsWith("CTE") === true) ?? plan;
  const steps: string[] = [];
  const walk = (n: PlanNode) => {
    const type = n["Node Type"];
    if (type === "Bitmap Heap Scan") {
      const indexes: string[] = [];
      const collect = (c: PlanNode) => {
        if (c["Index Name"]) indexes.push(indexKind(c["Index Name"]));
        for (const child of c.Plans ?? []) collect(child);
      };
      for (const child of n.Plans ?? []) collect(child);
      steps.push(`bitmap(${indexes.join(" ∧ ")})`);
      return;
    }
    for (const child of n.Plans ?? []) walk(child);
    if (type === "Seq Scan") steps.push("seq scan");
    else if (n["Index Name"]) steps.push(`${indexKind(n["Index Name"])} index scan`);
    else if (/Sort$/.test(type)) steps.push("sort");
  };
  walk(cte);
  return steps.join(" → ");
}

function find(node: PlanNode, test: (n: PlanNode) => boolean): PlanNode | undefined {
  if (test(node)) return node;
  for (const child of node.Plans ?? []) {
    const found = find(child, test);
    if (found) return found;
  }
  return undefined;
}

// The items tables' indexes by their migration names: *_embedding, *_metadata, *_pkey.
function indexKind(name: string): string {
  if (name.endsWith("_embedding")) return "HNSW";
  if (name.endsWith("_metadata")) return "GIN";
  if (name.endsWith("_pkey")) return "pkey";
  return name;
}

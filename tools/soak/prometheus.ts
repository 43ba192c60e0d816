/**
 * Just enough of the Prometheus text format to difference a service's counters and histograms over a run, across
 * restarts of the process (whose counters then start again from zero).
 */

/** Series key (`name{a="x",b="y"}`, labels sorted) → value. */
export type Samples = Map<string, number>;

/** One read of /metrics, at `atMs` on the run's clock. */
export interface Scrape {
  atMs: number;
  samples: Samples;
}

/**
 * Parses exposition text into samples; comments and unreadable lines are skipped.
 *
 * @example parsePrometheus('clip_stage_seconds_count{stage="inference",kind="image"} 4').get('clip_stage_seconds_count{kind="image",stage="inference"}') // 4
 */
export function parsePrometheus(text: string): Samples {
  const samples: Samples = new Map();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) continue;
    const value = parseValue(match[3] as string);
    if (value === undefined) continue;
    samples.set(seriesKey(match[1] as string, parseLabels(match[2] ?? "")), value);
  }
  return samples;
}

/** @example seriesKey("x_total", { b: "2", a: "1" }) // 'x_total{a="1",b="2"}' */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`);
  return pairs.length ? `${name}{${pairs.join(",")}}` : name;
}

/** The name and labels of a series key. */
export function parseSeriesKey(key: string): { name: string; labels: Record<string, string> } {
  const brace = key.indexOf("{");
  return brace === -1
    ? { name: key, labels: {} }
    : { name: key.slice(0, brace), labels: parseLabels(key.slice(brace)) };
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, c: string) =>
      c === "n" ? "\n" : c,
    );
  return labels;
}

function parseValue(text: string): number | undefined {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** Counters and the cumulative parts of histograms and summaries: what only grows within one process. */
export function isCumulative(key: string): boolean {
  const { name } = parseSeriesKey(key);
  return /_(total|count|sum|bucket)$/.test(name);
}

export interface Increase {
  /** Growth of every cumulative series over the scrapes, restarts counted as Prometheus' increase() does. */
  delta: Samples;
  /** Processes the scrapes saw (1 + restarts). */
  processes: number;
  /** Each restart: the last scrape of the old process and the first of the new one (ms). */
  restarts: { lastOldMs: number; firstNewMs: number }[];
}

/**
 * Sums each cumulative series' growth between consecutive scrapes. A restart (any counter lower than before, or gone) means the new process counted from zero, so its whole value is growth; what the old process did
 * after its last scrape is lost, which is why scrapes are taken right before a fault.
 *
 * @example increaseAcross([{ atMs: 0, samples: new Map([["a_total", 5]]) }, { atMs: 1, samples: new Map([["a_total", 8]]) }, { atMs: 2, samples: new Map([["a_total", 2]]) }]).delta.get("a_total") // 3 + 2 = 5
 */
export function increaseAcross(scrapes: readonly Scrape[]): Increase {
  const delta: Samples = new Map();
  const restarts: Increase["restarts"] = [];
  for (let i = 1; i < scrapes.length; i++) {
    const before = scrapes[i - 1] as Scrape;
    const after = scrapes[i] as Scrape;
    // Not the pid from the state file: a supervisor may rewrite it only after the new process already answered.
    // A process never drops a series, so one gone (a fresh process's first, nearly empty scrape) is a restart too.
    const restarted =
      [...after.samples].some(
        ([key, value]) => isCumulative(key) && value < (before.samples.get(key) ?? Number.NEGATIVE_INFINITY),
      ) || [...before.samples.keys()].some((key) => isCumulative(key) && !after.samples.has(key));
    if (restarted) restarts.push({ lastOldMs: before.atMs, firstNewMs: after.atMs });
    for (const [key, value] of after.samples) {
      if (!isCumulative(key)) continue;
      // A series absent before appeared during the window: all of it is growth, as after a restart.
      const growth = restarted ? value : value - (before.samples.get(key) ?? 0);
      delta.set(key, (delta.get(key) ?? 0) + growth);
    }
  }
  return { delta, processes: scrapes.length ? restarts.length + 1 : 0, restarts };
}

import type { Attempt, LogicalRequest } from "./types.ts";

// A V8 stack frame ("    at fn (file:///…/x.ts:3:9)", "at node:internal/…"; its newline escaped when inside JSON),
// or a file position ("x.ts:12").
const STACK_FRAME =
  /(?:^|\n|\\n)\s*at\s+(?:[\w$.<>[\] ]+\s+\()?(?:file:|node:|\/|[A-Za-z]:\\)|\w\.(?:ts|js|mjs|cjs):\d+/;
// An absolute path under a directory a server keeps its code or data in, a file: URL, node_modules.
const FILE_PATH =
  /file:\/\/|node_modules|(?:^|[\s"'(=])\/(?:home|root|work|usr|opt|srv|app|var|tmp|proc|etc|Users)\/|[A-Za-z]:\\[\w\\]/;

/**
 * A stack trace or a server file path in an answer's body, quoted (60 characters around it), or undefined. Request
 * paths and JSON pointers (`/v1/classify`, `/images/0/url`) are neither; the docs link is an https URL.
 *
 * @example findLeak('{"detail":"boom\\n    at run (file:///srv/app/x.ts:3:9)"}') // "…at run (file:///srv/app/x.ts:3:9)…"
 * @example findLeak('{"detail":"/images/0/url: the host is a loopback address"}') // undefined
 */
export function findLeak(text: string): string | undefined {
  const match = STACK_FRAME.exec(text) ?? FILE_PATH.exec(text);
  if (!match) return undefined;
  return text.slice(Math.max(0, match.index - 10), match.index + 50).replace(/\s+/g, " ");
}

const isOk = (a: Attempt) => a.status !== undefined && a.status >= 200 && a.status < 300;

/** Answers that say "not now" rather than judging the request: retried as for any request, not judged. */
function isPacing(a: Attempt): boolean {
  return (
    (a.status === 429 && a.code === "rate_limited") ||
    (a.status === 409 && a.code === "idempotency_in_progress")
  );
}

export interface BadVerdict {
  /** The final answer as `status code` (or `no answer: …`). */
  final: string;
  /** Empty when the case was answered as it must be. */
  problems: string[];
  /** 503/504 answers before the final one, on a case whose verdict needs the GPU tier (retried, allowed). */
  gpuRetries: number;
}

/**
 * Judges one bad request by all its attempts: never 2xx; never a 5xx, except a 503/504 on a case that needs the
 * GPU tier before its final answer (retried like any); every error `application/problem+json` with a code and no
 * stack trace or file path; the final answer the case's expected status and code. 429 `rate_limited` and 409 in
 * progress are pacing, retried and not judged — but a request must not end on one.
 *
 * @example judgeBad(request).problems // [] when it got its expected 400 invalid_request
 */
export function judgeBad(request: LogicalRequest): BadVerdict {
  const bad = request.bad;
  if (!bad) throw new Error("judgeBad needs a bad request");
  const problems: string[] = [];
  const last = request.attempts.at(-1);
  const final = !last
    ? "not sent"
    : last.noAnswer
      ? `no answer: ${last.noAnswer}`
      : `${last.status}${last.code ? ` ${last.code}` : ""}`;
  let gpuRetries = 0;
  request.attempts.forEach((attempt, i) => {
    const isLast = i === request.attempts.length - 1;
    const status = attempt.status;
    if (isOk(attempt)) problems.push(`answered ${status}`);
    if (attempt.leak) problems.push(`a stack trace or file path in the body: "${attempt.leak}"`);
    if (attempt.malformed && !isOk(attempt)) problems.push(attempt.malformed);
    if (status !== undefined && status >= 500) {
      // A saturated edge refuses any request before judging it (503 overloaded); a GPU-bound verdict may also wait
      // for the GPU tier. Either is retried, and the case must still end on its expected answer.
      const interim =
        !isLast && (attempt.code === "overloaded" || (bad.needsGpu && (status === 503 || status === 504)));
      if (interim) gpuRetries++;
      else problems.push(`answered ${status} ${attempt.code ?? ""}`.trim());
    }
  });
  if (
    last &&
    !last.noAnswer &&
    !last.malformed &&
    !isOk(last) &&
    !(last.status !== undefined && last.status >= 500)
  ) {
    if (isPacing(last)) problems.push(`ended on ${final} after its retries`);
    else if (last.status !== bad.expected.status || last.code !== bad.expected.code)
      problems.push(`expected ${bad.expected.status} ${bad.expected.code}, got ${final}`);
  }
  if (!last || last.noAnswer) problems.push(`no answer (${final})`);
  return { final, problems: [...new Set(problems)], gpuRetries };
}

export interface BadCaseOutcome {
  id: string;
  expected: string;
  sent: number;
  /** Final answers by `status code`. */
  answers: Record<string, number>;
  failed: number;
  /** The first problems seen (up to 3). */
  problems: string[];
}

export interface BadSummary {
  corpusSize: number;
  /** Distinct cases sent at least once. */
  casesSent: number;
  requests: number;
  failed: number;
  gpuRetries: number;
  cases: BadCaseOutcome[];
}

/**
 * Per case of the corpus: requests sent, final answers, how many failed and why.
 *
 * @example summarizeBad(requests, corpus.map((c) => c.id)).failed // 0
 */
export function summarizeBad(requests: readonly LogicalRequest[], corpusIds: readonly string[]): BadSummary {
  const cases = new Map<string, BadCaseOutcome>();
  let failed = 0;
  let gpuRetries = 0;
  let sent = 0;
  for (const request of requests) {
    if (!request.bad) continue;
    sent++;
    const { id, expected } = request.bad;
    const entry = cases.get(id) ?? {
      id,
      expected: `${expected.status} ${expected.code}`,
      sent: 0,
      answers: {},
      failed: 0,
      problems: [],
    };
    cases.set(id, entry);
    const verdict = judgeBad(request);
    entry.sent++;
    entry.answers[verdict.final] = (entry.answers[verdict.final] ?? 0) + 1;
    gpuRetries += verdict.gpuRetries;
    if (verdict.problems.length) {
      failed++;
      entry.failed++;
      for (const problem of verdict.problems)
        if (entry.problems.length < 3 && !entry.problems.includes(problem)) entry.problems.push(problem);
    }
  }
  const order = new Map(corpusIds.map((id, i) => [id, i]));
  return {
    corpusSize: corpusIds.length,
    casesSent: cases.size,
    requests: sent,
    failed,
    gpuRetries,
    cases: [...cases.values()].sort((a, b) => (order.get(a.id) ?? 1e9) - (order.get(b.id) ?? 1e9)),
  };
}

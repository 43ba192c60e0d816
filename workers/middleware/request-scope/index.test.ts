import { describe, expect, it } from "vitest";
import type { CallBudget, Outcome } from "../../services/upstream.ts";
import { answerReserveMs, RequestScope } from "./index.ts";

/** A call that answers when told, or reports cancellation when its budget's signal aborts. */
function controllable<T>() {
  let answer: (o: Outcome<T>) => void = () => {};
  let seen: CallBudget | undefined;
  const call = (budget: CallBudget) =>
    new Promise<Outcome<T>>((resolve) => {
      seen = budget;
      answer = resolve;
      budget.signal?.addEventListener("abort", () =>
        resolve({ ok: false, failure: { code: "cancelled", message: "aborted", retryAfterSeconds: 1 } }),
      );
    });
  return { call, answer: (o: Outcome<T>) => answer(o), budget: () => seen };
}

describe("RequestScope", () => {
  it("counts from arrival, moved by the time its body took to arrive", () => {
    let now = 1_000;
    const scope = new RequestScope(30_000, { now: () => now });
    expect(scope.deadline).toBe(31_000);
    scope.excludeUpload(4_000); // a slow upload
    now = 9_000;
    expect(scope.deadline).toBe(35_000);
    expect(scope.remainingMs()).toBe(26_000);
  });

  it("all(): values in order when every call succeeds, each call under the request's deadline and keepAlive", async () => {
    const keepAlive = () => {};
    const scope = new RequestScope(30_000, { keepAlive });
    const answer = await scope.all([
      async (budget) => ({
        ok: true,
        value: budget.deadline === scope.deadline && budget.keepAlive === keepAlive,
      }),
      async () => ({ ok: true, value: "second" }),
    ]);
    expect(answer).toEqual({ ok: true, value: [true, "second"] });
  });

  it("all(): the first failure aborts its siblings, and returns only once they have settled", async () => {
    const scope = new RequestScope(30_000);
    const slow = controllable<number>();
    let siblingSettled = false;
    const answer = await scope.all([
      async (budget) => {
        const outcome = await slow.call(budget);
        siblingSettled = true;
        return outcome;
      },
      async () => ({ ok: false, failure: { code: "upstream_error", message: "boom", retryAfterSeconds: 1 } }),
    ]);
    expect(answer).toMatchObject({ ok: false, failure: { code: "upstream_error" } });
    expect(siblingSettled).toBe(true);
    expect(slow.budget()?.signal?.aborted).toBe(true);
    // The scope itself goes on: only the siblings of that call were cancelled.
    expect(scope.signal.aborted).toBe(false);
  });

  it("all(): a call that throws (a bug) still aborts and awaits its siblings, then rethrows", async () => {
    const scope = new RequestScope(30_000);
    const slow = controllable<number>();
    let siblingSettled = false;
    const all = scope.all([
      async (budget) => {
        const outcome = await slow.call(budget);
        siblingSettled = true;
        return outcome;
      },
      async () => {
        throw new Error("a bug");
      },
    ]);
    await expect(all).rejects.toThrow("a bug");
    expect(siblingSettled).toBe(true);
  });

  it("end() cancels whatever still runs on the request's behalf", async () => {
    const scope = new RequestScope(30_000);
    const slow = controllable<number>();
    const pending = slow.call(scope);
    scope.end();
    expect(await pending).toMatchObject({ ok: false, failure: { code: "cancelled" } });
  });
});

describe("RequestScope.afterAnswer", () => {
  it("starts work left for afterwards only once the scope has ended, kept alive; after the end, at once", async () => {
    const kept: Promise<unknown>[] = [];
    const scope = new RequestScope(30_000, { keepAlive: (p) => void kept.push(p) });
    const ran: string[] = [];
    scope.afterAnswer(async () => void ran.push("cache writes"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ran).toEqual([]);
    expect(kept).toHaveLength(0);
    scope.end();
    scope.afterAnswer(async () => void ran.push("late"));
    await Promise.all(kept);
    expect(ran).toEqual(["cache writes", "late"]);
    expect(kept).toHaveLength(2);
  });
});

describe("RequestScope's reserve", () => {
  it("ends the work earlier by what answering takes now: 2 s and four turns of a lagging event loop, at most a quarter", () => {
    let lagMs = 0;
    const scope = new RequestScope(30_000, { now: () => 1_000, reserve: () => answerReserveMs(lagMs) });
    expect(scope.deadline).toBe(29_000);
    lagMs = 1_000; // the isolate is saturated now: the deadline follows
    expect(scope.deadline).toBe(25_000);
    lagMs = 60_000;
    expect(scope.deadline).toBe(23_500); // never more than a quarter of the budget
    const short = new RequestScope(2_000, { now: () => 0, reserve: () => answerReserveMs(0) });
    expect(short.deadline).toBe(1_500); // a short budget still leaves time for the work
  });
});

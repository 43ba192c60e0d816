import { unitsOf } from "../../../src/billing/index.ts";
import { planNamed } from "../../billing/config.ts";
import { MAX_RESERVATION_LEASE_MS } from "../../billing/key-meter/reservations.ts";
import { servicesFor } from "../index.ts";
import { embedLabelSet } from "./embed-label-set.ts";
import { statusOf } from "./views.ts";

/** What the creating request hands the consumer: the set, and whose units it holds for the build. */
export interface LabelSetBuildMessage {
  id: string;
  account: string;
  keyId: string;
  plan: string;
  /** The units reserved for the build (`reserveForLater`), settled or released here. */
  reservationId: string;
  requestId: string;
}

/** A build's units are held this long: its tries, with the queue's retries between them. */
export const BUILD_LEASE_MS = MAX_RESERVATION_LEASE_MS;
/** Each try has this long to embed the set; past it the message is retried. */
const TRY_MS = 5 * 60_000;
/** The consumer's `max_retries` in wrangler.toml: on the last try, a failure is final. */
const MAX_TRIES = 4;

/** The route a background build's usage is recorded under (it is the creating request's work). */
export const BUILD_ROUTE = "/v1/label-sets";

/**
 * The build queue's consumer: embeds a set too large for its request, writes its matrix to R2, marks it ready, and
 * bills what it embedded against the units the request reserved — one usage record per set, its id derived from the
 * set's, so a retried message can never bill twice. A try that fails is retried; the last failure marks the set
 * failed and lets the units go. A set deleted meanwhile is left alone, its units let go.
 *
 * @example export default { queue: (batch, env, ctx) => buildLabelSets(batch, env, ctx) }
 */
export async function buildLabelSets(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
  log: (line: string) => void = console.error,
): Promise<void> {
  for (const message of batch.messages) {
    const job = message.body as LabelSetBuildMessage;
    try {
      await buildOne(job, env, ctx);
      message.ack();
    } catch (error) {
      const final = message.attempts >= MAX_TRIES;
      log(
        `label set ${job.id}: build try ${message.attempts} failed${final ? ", giving up" : ""}: ${(error as Error).message}`,
      );
      if (!final) {
        message.retry({ delaySeconds: 10 * message.attempts });
        continue;
      }
      const services = servicesFor(env);
      await services.labelSets.store.finish(job.account, job.id, {
        status: "failed",
        error: "the labels could not be embedded; delete the set and create it again",
      });
      await services.billing
        .meter(job.keyId)
        .release(job.reservationId)
        .catch(() => {});
      message.ack();
    }
  }
}

async function buildOne(job: LabelSetBuildMessage, env: Env, ctx: ExecutionContext): Promise<void> {
  const services = servicesFor(env);
  const { store, matrices } = services.labelSets;
  const meter = services.billing.meter(job.keyId);
  const set = await store.get(job.account, job.id);
  // Deleted, finished already, or shown as failed since it stalled past its time: nothing to build, nothing to bill.
  if (set?.status !== "building" || statusOf(set).status !== "building") {
    if (set && statusOf(set).status === "failed" && set.status === "building")
      await store.finish(job.account, job.id, {
        status: "failed",
        error: "the build did not finish in time",
      });
    await meter.release(job.reservationId).catch(() => {});
    return;
  }
  const plan = planNamed(services.billing.config, job.plan);
  if (!plan) throw new Error(`plan "${job.plan}" is not configured`);
  const embedded = await embedLabelSet(services.texts, set.labels, set.templates, {
    budget: { deadline: Date.now() + TRY_MS },
    waitUntil: (promise) => ctx.waitUntil(promise),
  });
  if (!embedded.ok) throw new Error(`${embedded.failure.code}: ${embedded.failure.message}`);
  await matrices.put(set.id, set.model, embedded.value.rows);
  // Deleted while it was built: its matrix goes, and it bills nothing.
  if ((await store.get(job.account, job.id))?.status !== "building") {
    await matrices.delete(set.id, set.model);
    await meter.release(job.reservationId).catch(() => {});
    return;
  }
  const settled = await meter.settle({
    record: {
      id: await usageRecordIdOf(set.id),
      requestId: job.requestId,
      keyId: job.keyId,
      account: job.account,
      planName: job.plan,
      plan,
      route: BUILD_ROUTE,
      // The creating request was recorded already; this record carries the build's texts.
      units: unitsOf({
        requests: 0,
        texts_computed: embedded.value.computed,
        texts_cached: embedded.value.cached,
      }),
    },
    plan,
    reservationId: job.reservationId,
  });
  if (!settled.ok) throw new Error(`the build's usage was refused: ${settled.code}`);
  // Deleted in the moment since the look above: the build was billed as it finished, and its matrix goes.
  if (!(await store.finish(job.account, job.id, { status: "ready", truncated: embedded.value.truncated })))
    await matrices.delete(set.id, set.model);
}

/** `usg_` + 32 hex digits of SHA-256 over the set's id: one record per set, whatever the retries. */
async function usageRecordIdOf(setId: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`build:${setId}`)),
  );
  return `usg_${Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

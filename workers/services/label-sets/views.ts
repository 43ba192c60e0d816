import type { LabelSet } from "../../../src/api/label-sets.ts";
import { MAX_RESERVATION_LEASE_MS } from "../../billing/key-meter/reservations.ts";
import type { LabelSetRow } from "./label-set-store.ts";

/**
 * A build that has not finished within the longest a build may hold its units has stopped for good (its Worker died
 * between writing the row and queueing the build, or the queue gave up): it shows as failed, never building forever.
 */
export const BUILD_GIVES_UP_MS = MAX_RESERVATION_LEASE_MS;

/** A label set's status as the API tells it, a stalled build included. */
export function statusOf(row: LabelSetRow, now = Date.now()): { status: LabelSet["status"]; error?: string } {
  if (row.status === "building" && now - row.created > BUILD_GIVES_UP_MS)
    return { status: "failed", error: "the build did not finish; delete the set and create it again" };
  return row.status === "failed"
    ? { status: "failed", error: row.error ?? "the build failed" }
    : { status: row.status };
}

export function labelSetView(row: LabelSetRow): LabelSet {
  return {
    object: "label_set",
    id: row.id,
    name: row.name,
    labels: row.labels,
    templates: row.templates,
    model: row.model,
    ...statusOf(row),
    created: new Date(row.created).toISOString(),
  };
}

export const LABEL_SET_EXAMPLE: LabelSet = {
  object: "label_set",
  id: "ls_6f1c0e9a2b4d8c7e5f3a1b2c",
  name: "shop categories",
  labels: ["sneakers", "boots", "sandals"],
  templates: ["a photo of {}."],
  model: "clip-edge/tiny-clip",
  status: "ready",
  created: "2026-12-01T09:00:00.000Z",
};

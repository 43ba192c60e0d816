import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BatcherObserver } from "./batching/index.ts";

export type BatchKind = "image" | "text";

/**
 * The service's Prometheus metrics, in a registry of its own (one per service instance, so tests can run several).
 * Stage timings come from the batchers' events: queue wait, prepare (decode + resize), execute (inference).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly queueDepth = new Gauge({
    name: "clip_queue_depth",
    help: "Items waiting to be batched",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: "clip_batch_size",
    help: "Items per executed batch",
    labelNames: ["kind"],
    buckets: [1, 2, 4, 8, 16, 32, 48, 64],
    registers: [this.registry],
  });
  private readonly stageSeconds = new Histogram({
    name: "clip_stage_seconds",
    help: "Time per pipeline stage: queue_wait per item, prepare and inference per batch",
    labelNames: ["kind", "stage"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly itemErrors = new Counter({
    name: "clip_item_errors_total",
    help: "Items that failed, by code",
    labelNames: ["kind", "code"],
    registers: [this.registry],
  });
  private readonly requests = new Counter({
    name: "clip_http_requests_total",
    help: "HTTP requests by route and status",
    labelNames: ["route", "status"],
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: "clip_http_request_seconds",
    help: "HTTP request duration by route",
    labelNames: ["route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly sheds = new Counter({
    name: "clip_requests_shed_total",
    help: "Requests refused at once (503 shed) because the backlog would make them miss their deadline",
    labelNames: ["route"],
    registers: [this.registry],
  });
  private readonly queueRejections = new Counter({
    name: "clip_queue_rejections_total",
    help: "Items refused because a queue was full",
    labelNames: ["kind"],
    registers: [this.registry],
  });

  /** An observer for one batcher, turning its events into metrics. */
  observer(kind: BatchKind): BatcherObserver {
    return (event) => {
      switch (event.type) {
        case "queue_depth":
          this.queueDepth.set({ kind }, event.depth);
          break;
        case "batch_flushed":
          for (const wait of event.waitsMs)
            this.stageSeconds.observe({ kind, stage: "queue_wait" }, wait / 1000);
          break;
        case "prepared":
          this.stageSeconds.observe({ kind, stage: "prepare" }, event.durationMs / 1000);
          break;
        case "executed":
          this.batchSize.observe({ kind }, event.size);
          this.stageSeconds.observe({ kind, stage: "inference" }, event.durationMs / 1000);
          break;
        case "rejected":
          if (event.reason === "queue_full") this.queueRejections.inc({ kind });
          break;
      }
    };
  }

  itemFailed(kind: BatchKind, code: string): void {
    this.itemErrors.inc({ kind, code });
  }

  requestDone(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    this.requestSeconds.observe({ route }, seconds);
  }

  requestShed(route: string): void {
    this.sheds.inc({ route });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * The HTTP service as a real process (production's entry point, signed requests over loopback), loaded by concurrent
 * single-image clients. Beside images/s it reads the process's CPU time and peak RSS from /proc (Linux), which show
 * whether preprocessing and inference overlap (cores busy) and what a replica needs in memory.
 */
import { readFileSync } from "node:fs";
import { type GpuProcess, startGpuProcess } from "../../../test/support/gpu-process.ts";
import { frame, signedPost } from "../../../test/support/gpu-service.ts";
import { cpuMsOf, processCpuAvailable } from "../process-cpu.ts";
import { throughput } from "../throughput.ts";
import type { Workload } from "./workloads.ts";

export interface LoadResult {
  concurrency: number;
  rate: number;
  /** Cores the service process kept busy on average (all its threads). */
  cores: number;
  /** Cores the clients (this process: signing, sending, reading) kept busy meanwhile, on the same machine. */
  clientCores: number;
}

export interface ServiceRun {
  results: LoadResult[];
  /** Peak resident memory of the service process over the whole run (VmHWM), bytes. */
  peakRssBytes: number;
}

/** utime + stime of every thread of `pid`, in seconds; undefined off Linux or once the process is gone. */
function processCpuSeconds(pid: number): number | undefined {
  if (!processCpuAvailable) return undefined;
  try {
    return cpuMsOf(pid) / 1000;
  } catch {
    return undefined;
  }
}

function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Starts the service with `env`, warms it, measures each concurrency with `workload`'s images, and stops it. */
export async function measureService(
  env: Record<string, string>,
  workloads: { workload: Workload; concurrencies: readonly number[] }[],
  seconds: number,
): Promise<Map<Workload, ServiceRun>> {
  const gpu = await startGpuProcess(env);
  const runs = new Map<Workload, ServiceRun>();
  try {
    for (const { workload, concurrencies } of workloads) {
      const single = singleImageClient(gpu, workload);
      await throughput(Math.min(3, seconds), 8, 1, single); // JIT, libvips and ORT warm
      const results: LoadResult[] = [];
      for (const concurrency of concurrencies) {
        const pid = gpu.child.pid as number;
        const cpuBefore = processCpuSeconds(pid);
        const clientBefore = process.cpuUsage();
        const started = performance.now();
        const rate = await throughput(seconds, concurrency, 1, single);
        const elapsed = (performance.now() - started) / 1000;
        const cpuAfter = processCpuSeconds(pid);
        const client = process.cpuUsage(clientBefore);
        const clientCores = (client.user + client.system) / 1e6 / elapsed;
        const cores =
          cpuBefore === undefined || cpuAfter === undefined ? Number.NaN : (cpuAfter - cpuBefore) / elapsed;
        results.push({ concurrency, rate, cores, clientCores });
      }
      runs.set(workload, { results, peakRssBytes: peakRss(gpu.child.pid as number) });
    }
  } finally {
    await gpu.stop();
  }
  return runs;
}

function singleImageClient(gpu: GpuProcess, workload: Workload) {
  return async (i: number) => {
    const bytes = workload.images[i % workload.images.length] as Uint8Array;
    const response = await signedPost(
      `${gpu.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f16", images: [bytes] }),
    );
    if (!response.ok) throw new Error(`GPU service answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
}

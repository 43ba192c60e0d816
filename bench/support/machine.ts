/**
 * The machine a benchmark ran on, for the line beside its figures. The model name alone can hide what matters: a
 * hypervisor may report every Xeon as "Intel(R) Xeon(R) Processor", and two such machines here differed by 1.7× in
 * ONNX Runtime's images/s — the vector units (AVX-512, AMX) and the clock tell them apart.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";

/** Vector extensions ONNX Runtime's kernels (MLAS) pick from, widest first. */
const VECTOR_UNITS = [
  ["amx_tile", "AMX"],
  ["avx512f", "AVX-512"],
  ["avx2", "AVX2"],
  ["asimd", "NEON"],
] as const;

/**
 * @example describeMachine() // "Intel(R) Xeon(R) Processor (AMX, AVX-512, AVX2), 2 cores"
 */
export function describeMachine(): string {
  const model = cpus()[0]?.model.trim() || "unknown CPU";
  let flags: Set<string> = new Set();
  try {
    const line = /^(?:flags|Features)\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    flags = new Set((line?.[1] ?? "").trim().split(/\s+/));
  } catch {
    // Not Linux: the model name and the core count are all there is.
  }
  const units = VECTOR_UNITS.filter(([flag]) => flags.has(flag)).map(([, name]) => name);
  return `${model}${units.length > 0 ? ` (${units.join(", ")})` : ""}, ${availableParallelism()} cores`;
}

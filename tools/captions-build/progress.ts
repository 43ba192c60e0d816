/** Where progress goes: process.stderr, or anything with the same shape in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBar {
  update(done: number): void;
  /** Replaces the bar with a final line. */
  end(line: string): void;
}

/**
 * A progress bar for `total` items. On a terminal it is one line redrawn in place at most ten times a second; in a
 * log (CI, a pipe) it writes a plain line every `plainIntervalMs` instead, so the log does not fill with redraws.
 *
 * @example const bar = createProgressBar(process.stderr, "captions", 224); bar.update(64); bar.end("done")
 */
export function createProgressBar(
  stream: ProgressStream,
  label: string,
  total: number,
  options: { now?: () => number; plainIntervalMs?: number } = {},
): ProgressBar {
  const now = options.now ?? Date.now;
  const tty = stream.isTTY === true;
  const interval = tty ? 100 : (options.plainIntervalMs ?? 10_000);
  const started = now();
  let lastWrite = Number.NEGATIVE_INFINITY;
  const status = (done: number) => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && done < total ? `  ETA ${clock((total - done) / rate)}` : "";
    const percent = `${total > 0 ? Math.floor((100 * done) / total) : 100}%`;
    return `${percent.padStart(4)}  ${count(done)}/${count(total)}  ${count(Math.round(rate))}/s${eta}`;
  };
  return {
    update(done) {
      if (now() - lastWrite < interval && done < total) return;
      lastWrite = now();
      if (!tty) {
        stream.write(`${label}: ${status(done)}\n`);
        return;
      }
      const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - label.length - 50));
      const filled = total > 0 ? Math.min(width, Math.floor((width * done) / total)) : width;
      stream.write(`\r\x1b[2K${label}  [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${status(done)}`);
    },
    end(line) {
      stream.write(tty ? `\r\x1b[2K${label}  ${line}\n` : `${label}: ${line}\n`);
    },
  };
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function clock(seconds: number): string {
  const s = Math.ceil(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

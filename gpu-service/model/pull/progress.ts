/** Where progress goes: process.stderr, or anything with the same shape in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** One file's progress, from the first byte we ask for to the final verdict. */
export interface FileProgress {
  /** Total bytes of the file so far on disk (resumed bytes included). */
  update(done: number): void;
  end(verdict: string): void;
}

export interface Progress {
  begin(path: string, total: number, resumedFrom: number): FileProgress;
  /** A file that needed no download, in one line. */
  note(path: string, text: string): void;
}

/**
 * A bar per file. On a terminal it is one line redrawn in place (at most ten times a second); in a log (CI, a pipe)
 * redrawing would leave thousands of lines, so it writes one line per file when it ends, plus a line every
 * `plainIntervalMs` while a long one is under way.
 *
 * @example const file = createProgress(process.stderr).begin("onnx/text_model.onnx", 254_000_000, 0)
 */
export function createProgress(
  stream: ProgressStream,
  options: { now?: () => number; plainIntervalMs?: number } = {},
): Progress {
  const now = options.now ?? Date.now;
  const plainIntervalMs = options.plainIntervalMs ?? 10_000;
  const tty = stream.isTTY === true;
  return {
    note(path, text) {
      stream.write(tty ? `\r\x1b[2K${path}  ${text}\n` : `${path}: ${text}\n`);
    },
    begin(path, total, resumedFrom) {
      const started = now();
      let lastWrite = started;
      let done = resumedFrom;
      const rate = () => {
        const seconds = (now() - started) / 1000;
        return seconds > 0 ? `${formatBytes((done - resumedFrom) / seconds)}/s` : "";
      };
      const sizes = () => `${formatBytes(done)}/${formatBytes(total)}`;
      const resumed = resumedFrom > 0 ? ` (resumed at ${formatBytes(resumedFrom)})` : "";
      const draw = () => {
        const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - path.length - 45));
        stream.write(
          `\r\x1b[2K${path}  ${bar(done, total, width)} ${percent(done, total).padStart(4)}  ${sizes()}  ${rate()}`,
        );
      };
      if (tty) draw();
      return {
        update(bytes) {
          done = bytes;
          const interval = tty ? 100 : plainIntervalMs;
          if (now() - lastWrite < interval) return;
          lastWrite = now();
          if (tty) draw();
          else stream.write(`${path}: ${percent(done, total)} (${sizes()}, ${rate()})${resumed}\n`);
        },
        end(verdict) {
          const seconds = ((now() - started) / 1000).toFixed(1);
          const line = `${verdict}, ${formatBytes(total)} in ${seconds} s${resumed}`;
          stream.write(tty ? `\r\x1b[2K${path}  ${line}\n` : `${path}: ${line}\n`);
        },
      };
    },
  };
}

/** Decimal units, as the Hub's web pages show sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function percent(done: number, total: number): string {
  return total > 0 ? `${Math.floor((100 * done) / total)}%` : "100%";
}

function bar(done: number, total: number, width: number): string {
  const filled = total > 0 ? Math.min(width, Math.floor((width * done) / total)) : width;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

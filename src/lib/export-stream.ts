/*
 * Streamed log exports (api.md §2.12.2/§2.12.3): CSV (UTF-8 with BOM, CRLF, RFC 4180 quoting,
 * cells a spreadsheet would read as a formula prefixed with an apostrophe) or a JSON array, built
 * batch by batch so a 100 000-row export never sits whole in memory.
 */

export const EXPORT_MAX_ROWS = 100_000;

export type ExportFormat = "csv" | "json";

/** A text cell that starts like a formula (= + - @ TAB CR) gets a leading apostrophe. */
export function neutralise(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text =
    typeof value === "string"
      ? neutralise(value)
      : typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : neutralise(JSON.stringify(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvLine = (cells: unknown[]) => `${cells.map(csvCell).join(",")}\r\n`;

/**
 * A byte stream of `format` over rows fetched in batches: `next(after)` returns the next batch
 * (empty when done). `columns` turns a row into its CSV cells in header order; JSON writes the
 * row as it is.
 */
export function exportStream<R>(options: {
  format: ExportFormat;
  header: string[];
  columns: (row: R) => unknown[];
  next: (after: R | null) => Promise<R[]>;
  maxRows?: number;
  onError?: (err: unknown) => void;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const max = options.maxRows ?? EXPORT_MAX_ROWS;
  let last: R | null = null;
  let written = 0;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          controller.enqueue(
            encoder.encode(options.format === "csv" ? `\uFEFF${csvLine(options.header)}` : "["),
          );
          return;
        }
        const batch = written < max ? (await options.next(last)).slice(0, max - written) : [];
        if (batch.length === 0) {
          if (options.format === "json") controller.enqueue(encoder.encode("]\n"));
          controller.close();
          return;
        }
        let chunk = "";
        for (const row of batch) {
          chunk +=
            options.format === "csv"
              ? csvLine(options.columns(row))
              : `${written === 0 ? "" : ","}\n${JSON.stringify(row)}`;
          written++;
        }
        last = batch[batch.length - 1];
        controller.enqueue(encoder.encode(chunk));
      } catch (err) {
        options.onError?.(err);
        controller.error(err);
      }
    },
  });
}

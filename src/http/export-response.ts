import type { ExportFormat } from "@/lib/export-stream";
import { contentDisposition } from "@/lib/file-types";

/* The download answer of the admin log exports (activity, audit): one shape for both. */
export function exportResponse(out: {
  body: ReadableStream<Uint8Array>;
  format: ExportFormat;
  filename: string;
  truncated: boolean;
}): Response {
  return new Response(out.body, {
    headers: {
      "Content-Type": out.format === "csv" ? "text/csv; charset=utf-8" : "application/json",
      "Content-Disposition": contentDisposition(out.filename),
      "Cache-Control": "private, no-store",
      "X-Export-Truncated": String(out.truncated),
    },
  });
}

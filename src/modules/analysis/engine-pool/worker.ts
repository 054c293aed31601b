/*
 * Entry point of an analysis worker (listed as a build entry point in package.json so that the
 * compiled binary embeds it). The `test:` tasks exist so the pool's crash, timeout and abort
 * handling can be exercised against this very entry.
 */

import { parseFileSheet, registerFile } from "@/engine";
import { serveTasks, type TaskHandler } from "@/lib/worker-pool/serve";
import { encodeError, frameBuffers, type ParseSheetTask, type RegisterTask } from "./protocol";

const handlers: Record<string, TaskHandler> = {
  async register(payload) {
    const { bytes, kind, options } = payload as RegisterTask;
    const result = await registerFile(bytes, kind, options);
    return { result, transfer: frameBuffers(result.sheets.map((s) => s.frame)) };
  },
  async parseSheet(payload) {
    const { bytes, kind, sheetName, axes, options } = payload as ParseSheetTask;
    const result = await parseFileSheet(bytes, kind, sheetName, axes, options);
    return { result, transfer: frameBuffers([result.frame]) };
  },
  "test:exit"() {
    process.exit(3);
  },
  "test:uncaught"() {
    setTimeout(() => {
      throw new Error("uncaught in worker");
    }, 0);
    return new Promise<never>(() => {});
  },
  "test:spin"(payload) {
    const until = Date.now() + (payload as { ms: number }).ms;
    while (Date.now() < until) {
      // Busy on purpose: a CPU-bound task that never yields.
    }
    return { result: "done" };
  },
};

serveTasks(handlers, encodeError);

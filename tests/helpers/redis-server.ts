import type { Subprocess } from "bun";
import { freePort, waitForPort } from "./free-port";

/*
 * A throwaway redis-server on loopback for outage tests: it can be killed and started again on
 * the same port. Nothing is persisted.
 */

export const hasRedisServer = Bun.which("redis-server") !== null;

/* Servers still running when the test process exits are killed, so none outlives its run. */
const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

export type ThrowawayRedis = {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /* SIGSTOP/SIGCONT: the socket stays open but nothing answers (a hung server). */
  pause(): void;
  resume(): void;
};

/* `extraArgs` may depend on the port, e.g. to move the server onto `--tls-port`. */
export async function throwawayRedis(
  extraArgs: string[] | ((port: number) => string[]) = [],
): Promise<ThrowawayRedis> {
  const port = await freePort();
  const args = typeof extraArgs === "function" ? extraArgs(port) : extraArgs;
  let proc: Subprocess | null = null;
  const self: ThrowawayRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = Bun.spawn(
        [
          "redis-server",
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          ...args,
        ],
        { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
      );
      const started = proc;
      live.add(started);
      void started.exited.then(() => live.delete(started));
      try {
        await waitForPort(port);
      } catch (err) {
        started.kill("SIGKILL");
        proc = null;
        throw err;
      }
    },
    async stop() {
      const p = proc;
      proc = null;
      if (!p) return;
      p.kill("SIGCONT");
      p.kill("SIGKILL");
      await p.exited;
    },
    pause() {
      proc?.kill("SIGSTOP");
    },
    resume() {
      proc?.kill("SIGCONT");
    },
  };
  await self.start();
  return self;
}

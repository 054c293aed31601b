import type { Subprocess } from "bun";

/* Children still running when the test process exits (a failed assertion) are killed with it. */
const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/* Starts a child Bun process and resolves with the port it prints as `READY <port>`. */
export async function spawnServer(
  script: string,
  env: Record<string, string>,
  timeoutMs = 20000,
): Promise<{ proc: Subprocess<"ignore", "pipe", "pipe">; port: number; output: () => string }> {
  const proc = Bun.spawn(["bun", script], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  let out = "";
  const decoder = new TextDecoder();
  const reader = proc.stdout.getReader();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), timeoutMs);
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          clearTimeout(timer);
          reject(new Error(`server exited before READY:\n${out}\n${await new Response(proc.stderr).text()}`));
          return;
        }
        out += decoder.decode(value);
        const m = /READY (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
          void (async () => {
            for (;;) {
              const r = await reader.read();
              if (r.done) break;
              out += decoder.decode(r.value);
            }
          })();
          return;
        }
      }
    })();
  });
  return { proc, port, output: () => out };
}

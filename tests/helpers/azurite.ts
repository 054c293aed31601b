import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitForPort } from "./free-port";

/*
 * Azurite (blob service only) on a free loopback port with a throwaway data folder. The account
 * and key are Azurite's documented development credentials, not secrets.
 */

export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const BIN = resolve(import.meta.dir, "../../node_modules/.bin/azurite-blob");

export const hasAzurite = (await Bun.file(BIN).exists()) && Bun.which("node") !== null;

/* Anything still running when the test process exits is killed, so no Azurite outlives its run. */
const live = new Set<{ kill(signal?: number | NodeJS.Signals): void }>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

export type Azurite = { connectionString: string; port: number; stop: () => Promise<void> };

export async function startAzurite(): Promise<Azurite> {
  const port = await freePort();
  const location = mkdtempSync(join(tmpdir(), "azurite-"));
  const proc = Bun.spawn(
    [
      BIN,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--location",
      location,
      "--silent",
      "--skipApiVersionCheck",
      "--loose",
    ],
    { stdout: "ignore", stderr: "pipe", stdin: "ignore" },
  );
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  try {
    await Promise.race([
      waitForPort(port, 30_000),
      proc.exited.then(async (code) => {
        throw new Error(`azurite exited with ${code}: ${await new Response(proc.stderr).text()}`);
      }),
    ]);
  } catch (err) {
    proc.kill("SIGKILL");
    rmSync(location, { recursive: true, force: true });
    throw err;
  }
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
  return {
    connectionString,
    port,
    async stop() {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
      if (!exited) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
      rmSync(location, { recursive: true, force: true });
    },
  };
}

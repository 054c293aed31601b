import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./free-port";

/*
 * A headless Chromium driven over the DevTools protocol. `--dump-dom` only returns the DOM after a
 * fixed virtual-time budget and prints nothing reliable about CSP; the protocol lets the test wait
 * until the page has rendered and collect console errors, uncaught exceptions and CSP violations.
 */

export type PageReport = {
  /** Console errors, uncaught exceptions and browser log entries of level error/warning. */
  errors: string[];
  /** `securitypolicyviolation` events seen in the page: "<directive> <blocked URI>". */
  cspViolations: string[];
};

type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };

export class Browser {
  private constructor(
    private readonly proc: Subprocess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.addEventListener("message", (e) => this.onMessage(String(e.data)));
  }

  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners: ((method: string, params: any, sessionId?: string) => void)[] = [];

  static async launch(executable: string): Promise<Browser> {
    const port = await freePort();
    const profile = mkdtempSync(join(tmpdir(), "camp-chromium-"));
    const proc = Bun.spawn(
      [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        `--user-data-dir=${profile}`,
        `--remote-debugging-port=${port}`,
        "about:blank",
      ],
      { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
    );
    const deadline = Date.now() + 15_000;
    let url: string | null = null;
    while (!url) {
      try {
        const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()) as any;
        url = version.webSocketDebuggerUrl;
      } catch {
        if (proc.exitCode !== null || Date.now() > deadline) {
          proc.kill("SIGKILL");
          rmSync(profile, { recursive: true, force: true });
          throw new Error(`chromium did not open its DevTools port (exit ${proc.exitCode})`);
        }
        await Bun.sleep(100);
      }
    }
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("DevTools websocket failed")), { once: true });
    });
    return new Browser(proc, ws, profile);
  }

  private onMessage(data: string) {
    const msg = JSON.parse(data);
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${msg.error.message} ${msg.error.data ?? ""}`));
      else p?.resolve(msg.result);
      return;
    }
    for (const l of this.listeners) l(msg.method, msg.params, msg.sessionId);
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /*
   * Opens `url` in a new tab and waits until `ready` (a page expression) is truthy or the timeout
   * passes; returns what the page reported plus `evaluate` for further assertions.
   */
  async open(url: string, ready: string, timeoutMs = 15_000) {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const report: PageReport = { errors: [], cspViolations: [] };
    this.listeners.push((method, params, sid) => {
      if (sid !== sessionId) return;
      if (method === "Runtime.consoleAPICalled" && (params.type === "error" || params.type === "warning"))
        report.errors.push(
          `console.${params.type}: ${params.args.map((a: any) => a.value ?? a.description).join(" ")}`,
        );
      if (method === "Runtime.exceptionThrown")
        report.errors.push(
          `exception: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}`,
        );
      if (method === "Log.entryAdded" && (params.entry.level === "error" || params.entry.level === "warning"))
        report.errors.push(`log.${params.entry.source}: ${params.entry.text} ${params.entry.url ?? ""}`);
    });
    await this.send("Runtime.enable", {}, sessionId);
    await this.send("Log.enable", {}, sessionId);
    await this.send("Page.enable", {}, sessionId);
    // Scripts added through the protocol run before the page's own and are not subject to its CSP.
    await this.send(
      "Page.addScriptToEvaluateOnNewDocument",
      {
        source: `window.__csp = []; document.addEventListener("securitypolicyviolation", (e) =>
          window.__csp.push(e.effectiveDirective + " " + (e.blockedURI || "inline")));`,
      },
      sessionId,
    );
    await this.send("Page.navigate", { url }, sessionId);
    const evaluate = async <T>(expression: string): Promise<T> => {
      const r = await this.send("Runtime.evaluate", { expression, returnByValue: true }, sessionId);
      if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.text}`);
      return r.result.value as T;
    };
    const deadline = Date.now() + timeoutMs;
    let rendered = false;
    while (Date.now() < deadline) {
      if (await evaluate<boolean>(`Boolean(${ready})`).catch(() => false)) {
        rendered = true;
        break;
      }
      await Bun.sleep(100);
    }
    report.cspViolations = await evaluate<string[]>("window.__csp ?? []").catch(() => []);
    return { rendered, report, evaluate };
  }

  async close() {
    await Promise.race([this.send("Browser.close").catch(() => {}), Bun.sleep(2000)]);
    this.ws.close();
    if ((await Promise.race([this.proc.exited, Bun.sleep(3000).then(() => "timeout")])) === "timeout")
      this.proc.kill("SIGKILL");
    rmSync(this.profile, { recursive: true, force: true });
  }
}

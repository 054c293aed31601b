/*
 * Replay of a snapshot's steps (analysis.md §3.1, §3.8, §3.9). Every step gets a status; replay
 * never throws for a bad step (only for an aborted signal). Results are cached under a Merkle key:
 * the engine version, the input's dataHash and the canonical configs of the step and everything
 * it depends on — editing a step changes only its own and its dependants' keys.
 */

import { ResultCache } from "@/engine/cache";
import { ENGINE_VERSION, ORIGINAL_INPUT, type StepType } from "@/engine/contract";
import { EngineError, type EngineFieldError, limitExceeded, stepReferenceInvalid } from "@/engine/errors";
import { type Frame, frameBytes } from "@/engine/frame";
import { type EngineLimits, withDefaults } from "@/engine/limits";
import { applyAggregate } from "@/engine/steps/aggregate";
import { type StepContext, type StepWarning, Warnings } from "@/engine/steps/common";
import { applyFilter, filterDependencies } from "@/engine/steps/filter";
import { applySummary, type SummaryResult } from "@/engine/steps/summary";
import { applyTransform } from "@/engine/steps/transform";
import { canonicalJson, sha256Hex } from "@/engine/util/canonical-json";

export type StepDef = {
  stepKey: string;
  name: string;
  type: StepType;
  /** "original" or the stepKey of an earlier dataset-producing step. */
  input: string;
  /** null/undefined = not configured. `{}` is a configured (pass-through for filters) config. */
  config?: unknown;
};

export type StepStatus = "ok" | "invalid" | "blocked" | "not_configured";

export type StepErrorBody = {
  code: string;
  status: number;
  detail: string;
  errors: EngineFieldError[];
  [member: string]: unknown;
};

export type StepResult = {
  stepKey: string;
  name: string;
  type: StepType;
  status: StepStatus;
  configured: boolean;
  /** JSON-safe problem body (the 422 the same config would get), or null. */
  error: StepErrorBody | null;
  /** The error itself, so that a service can rethrow it for the edited step. */
  exception: EngineError | null;
  warnings: StepWarning[];
  /** Dataset of filter/aggregate/transform steps. */
  frame: Frame | null;
  summary: SummaryResult | null;
  resultKey: string | null;
  cached: boolean;
};

type CachedResult = { frame: Frame | null; summary: SummaryResult | null; warnings: StepWarning[] };

export type PipelineOptions = {
  limits?: Partial<EngineLimits>;
  cache?: ResultCache<CachedResult>;
  signal?: AbortSignal;
  /** Rows of a summary's source table (`rowLimit`). */
  rowLimit?: number;
  /** Called with unexpected exceptions (bugs), which mark the step invalid with ENGINE_ERROR. */
  onEngineError?: (error: unknown, step: StepDef) => void;
};

export type PipelineResult = { steps: StepResult[]; byKey: Map<string, StepResult> };

export const createResultCache = (maxBytes = 512 * 1024 * 1024) => new ResultCache<CachedResult>(maxBytes);

const isDataset = (t: StepType) => t !== "summary";
const configured = (s: StepDef) => s.config !== undefined && s.config !== null;

export function stepDependencies(step: StepDef): string[] {
  const deps = [step.input];
  if (step.type === "filter" && configured(step)) deps.push(...filterDependencies(step.config));
  return deps;
}

/** Steps that reference `stepKey` (input or tableFilter source): refuse deletion while any exist. */
export function dependantsOf(steps: StepDef[], stepKey: string): { stepKey: string; name: string }[] {
  return steps
    .filter((s) => s.stepKey !== stepKey && stepDependencies(s).includes(stepKey))
    .map((s) => ({ stepKey: s.stepKey, name: s.name }));
}

export function assertDeletable(steps: StepDef[], stepKey: string): void {
  const dependants = dependantsOf(steps, stepKey);
  if (dependants.length) {
    throw new EngineError(
      "STEP_NOT_DELETABLE",
      422,
      `The step is used by ${dependants.map((d) => d.name).join(", ")}`,
      { dependants },
    );
  }
}

const body = (e: EngineError): StepErrorBody => ({
  ...e.extensions,
  code: e.code,
  status: e.status,
  detail: e.detail,
  errors: e.errors,
});

function cachedBytes(r: CachedResult): number {
  let bytes = 256;
  if (r.frame) bytes += frameBytes(r.frame);
  if (r.summary) bytes += 2 * JSON.stringify(r.summary).length;
  return bytes;
}

export function runPipeline(
  input: Frame,
  inputHash: string,
  steps: StepDef[],
  options: PipelineOptions = {},
): PipelineResult {
  const limits = withDefaults(options.limits);
  const cache = options.cache;
  const rowLimit = options.rowLimit ?? 5000;
  const results: StepResult[] = [];
  const byKey = new Map<string, StepResult>();
  const earlier: StepDef[] = [];

  for (const step of steps) {
    options.signal?.throwIfAborted();
    const base = {
      stepKey: step.stepKey,
      name: step.name,
      type: step.type,
      configured: configured(step),
      frame: null,
      summary: null,
      warnings: [],
      resultKey: null,
      cached: false,
      error: null,
      exception: null,
    };
    const finish = (r: StepResult) => {
      results.push(r);
      byKey.set(step.stepKey, r);
      earlier.push(step);
    };
    if (!configured(step)) {
      finish({ ...base, status: "not_configured" });
      continue;
    }
    const available = earlier
      .filter((s) => isDataset(s.type))
      .map((s) => ({ stepKey: s.stepKey, name: s.name, type: s.type }));
    // References: input and tableFilter source must name earlier dataset steps.
    let refError: EngineError | null = null;
    const deps = stepDependencies(step);
    deps.forEach((key, i) => {
      if (refError || (i === 0 && key === ORIGINAL_INPUT)) return;
      const target = earlier.find((s) => s.stepKey === key);
      if (!target || !isDataset(target.type)) {
        const path = i === 0 ? "/input" : "/config/tableFilter/sourceStepKey";
        refError = stepReferenceInvalid(
          `${i === 0 ? "input" : "tableFilter.sourceStepKey"} ${key} is not an earlier filter, aggregate or transform step`,
          path,
          { availableSteps: available },
        );
      }
    });
    if (refError) {
      finish({ ...base, status: "invalid", error: body(refError), exception: refError });
      continue;
    }
    const blocking = deps
      .map((k) => (k === ORIGINAL_INPUT ? null : byKey.get(k)!))
      .find((r) => r && r.status !== "ok");
    if (blocking) {
      const e = new EngineError(
        "STEP_BLOCKED",
        422,
        `Depends on step ${blocking.name}, which is ${blocking.status}`,
        {
          dependency: { stepKey: blocking.stepKey, name: blocking.name, status: blocking.status },
        },
      );
      finish({ ...base, status: "blocked", error: body(e), exception: e });
      continue;
    }
    const depKeys = deps.map((k) => (k === ORIGINAL_INPUT ? inputHash : byKey.get(k)!.resultKey!));
    const resultKey = sha256Hex(
      ENGINE_VERSION,
      step.type,
      canonicalJson(step.config),
      canonicalJson(limits),
      step.type === "summary" ? String(rowLimit) : "",
      ...depKeys,
    );
    const hit = cache?.get(resultKey);
    if (hit) {
      finish({
        ...base,
        status: "ok",
        frame: hit.frame,
        summary: hit.summary,
        warnings: hit.warnings,
        resultKey,
        cached: true,
      });
      continue;
    }
    const source = step.input === ORIGINAL_INPUT ? input : byKey.get(step.input)!.frame!;
    const ctx: StepContext = { limits, dataset: (key) => byKey.get(key)?.frame ?? undefined };
    const w = new Warnings();
    try {
      if (source.rowCount > limits.maxRows) throw limitExceeded("rows", limits.maxRows, source.rowCount);
      let out: CachedResult;
      switch (step.type) {
        case "filter":
          out = { frame: applyFilter(step.config, source, ctx, w), summary: null, warnings: [] };
          break;
        case "aggregate":
          out = { frame: applyAggregate(step.config, source, ctx, w), summary: null, warnings: [] };
          break;
        case "transform":
          out = { frame: applyTransform(step.config, source, ctx, w), summary: null, warnings: [] };
          break;
        default:
          out = { frame: null, summary: applySummary(step.config, source, ctx, w, rowLimit), warnings: [] };
      }
      if (out.frame && out.frame.rowCount > limits.maxRows)
        throw limitExceeded("rows", limits.maxRows, out.frame.rowCount);
      out.warnings = w.list();
      cache?.set(resultKey, out, cachedBytes(out));
      finish({
        ...base,
        status: "ok",
        frame: out.frame,
        summary: out.summary,
        warnings: out.warnings,
        resultKey,
      });
    } catch (e) {
      if (e instanceof EngineError) {
        finish({ ...base, status: "invalid", error: body(e), exception: e });
      } else {
        options.onEngineError?.(e, step);
        const err = new EngineError(
          "STEP_CONFIG_INVALID",
          422,
          `ENGINE_ERROR: ${(e as Error)?.message ?? String(e)}`,
          { reason: "ENGINE_ERROR" },
        );
        finish({ ...base, status: "invalid", error: body(err), exception: err });
      }
    }
  }
  return { steps: results, byKey };
}

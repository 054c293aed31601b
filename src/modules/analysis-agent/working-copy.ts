import {
  canonicalJson,
  dependantsOf,
  EngineError,
  type Frame,
  ORIGINAL_INPUT,
  type PipelineOptions,
  type PipelineResult,
  runPipeline,
  type StepDef,
  type StepResult,
} from "@/engine";

/*
 * The agent's working copy of a snapshot's pipeline (analysis.md §5.1 step 2): steps live in
 * memory, every mutation replays the pipeline and is kept only when the edited step is acceptable,
 * so a failed tool call changes nothing (§5.6). Nothing reaches the database until the commit.
 */

export type WorkingStep = StepDef & { config: unknown };

export type StepChange = {
  change: "added" | "updated" | "deleted";
  stepKey: string;
  name: string;
  type: string;
  status: string;
};

const isDataset = (type: string) => type !== "summary";

export class WorkingCopy {
  private current: WorkingStep[];
  private replayed: PipelineResult;
  /** stepKey → canonical config of steps that were already invalid in the base snapshot. */
  private readonly baseInvalid = new Map<string, string>();

  constructor(
    readonly frame: Frame,
    readonly inputHash: string,
    steps: WorkingStep[],
    private readonly options: {
      cache?: PipelineOptions["cache"];
      signal?: AbortSignal;
      maxSteps?: number;
    } = {},
  ) {
    this.current = steps.map((s) => ({ ...s }));
    this.replayed = this.replay(this.current);
    for (const r of this.replayed.steps) {
      if (r.status === "invalid") {
        const def = this.current.find((s) => s.stepKey === r.stepKey)!;
        this.baseInvalid.set(r.stepKey, canonicalJson(def));
      }
    }
  }

  private deadline: number | null = null;

  /**
   * Bounds the replays of one tool call (AGENT_TOOL_TIMEOUT_S). The engine checks its signal
   * between steps; timers cannot fire inside synchronous work, so the check reads the clock.
   */
  setToolDeadline(at: number | null): void {
    this.deadline = at;
  }

  private replay(steps: WorkingStep[]): PipelineResult {
    const turn = this.options.signal;
    const deadline = this.deadline;
    const signal =
      deadline === null
        ? turn
        : ({
            get aborted() {
              return (turn?.aborted ?? false) || performance.now() > deadline;
            },
            throwIfAborted() {
              turn?.throwIfAborted();
              if (performance.now() > deadline) {
                throw new EngineError(
                  "TOOL_TIMEOUT",
                  422,
                  "The tool call ran past its time limit; nothing was changed.",
                );
              }
            },
          } as AbortSignal);
    return runPipeline(this.frame, this.inputHash, steps, { cache: this.options.cache, signal });
  }

  get steps(): readonly WorkingStep[] {
    return this.current;
  }

  result(stepKey: string): StepResult | undefined {
    return this.replayed.byKey.get(stepKey);
  }

  get results(): PipelineResult {
    return this.replayed;
  }

  find(stepKey: string): WorkingStep {
    const step = this.current.find((s) => s.stepKey === stepKey);
    if (!step) {
      throw new EngineError("STEP_NOT_FOUND", 404, `No step with stepKey ${stepKey}`, {
        availableSteps: this.current.map((s) => ({ stepKey: s.stepKey, name: s.name, type: s.type })),
      });
    }
    return step;
  }

  /** Dataset steps that may feed a step at `position` (plus "original"). */
  availableInputs(position = this.current.length) {
    return this.current
      .slice(0, position)
      .filter((s) => isDataset(s.type))
      .map((s) => ({ stepKey: s.stepKey, name: s.name, type: s.type }));
  }

  /**
   * Steps that are invalid now and were not invalid with the same config at the start of the turn
   * (the repair gate of §5.1 step 4).
   */
  newlyInvalid(): StepResult[] {
    return this.replayed.steps.filter((r) => {
      if (r.status !== "invalid") return false;
      const def = this.current.find((s) => s.stepKey === r.stepKey)!;
      return this.baseInvalid.get(r.stepKey) !== canonicalJson(def);
    });
  }

  private assertName(name: string, except?: string) {
    const taken = this.current.find((s) => s.name === name && s.stepKey !== except);
    if (taken) {
      throw new EngineError("NAME_TAKEN", 409, `A step named ${name} already exists`, {
        availableSteps: this.current.map((s) => ({ stepKey: s.stepKey, name: s.name, type: s.type })),
      });
    }
  }

  private assertInput(input: string, position: number) {
    if (input === ORIGINAL_INPUT) return;
    const available = this.availableInputs(position);
    if (!available.some((s) => s.stepKey === input)) {
      throw new EngineError(
        "STEP_REFERENCE_INVALID",
        422,
        `input ${input} is not "original" or an earlier filter, aggregate or transform step`,
        { availableSteps: available },
        [{ path: "/input", message: `unknown input ${input}` }],
      );
    }
  }

  /** Applies `next` when the edited step is acceptable; returns the changed step's result. */
  private commit(next: WorkingStep[], editedKey: string): StepResult {
    const replayed = this.replay(next);
    const result = replayed.byKey.get(editedKey)!;
    if (result.status === "invalid" || result.status === "blocked") throw result.exception!;
    this.current = next;
    this.replayed = replayed;
    return result;
  }

  add(step: { stepKey: string; name: string; type: WorkingStep["type"]; input: string }): StepResult {
    const max = this.options.maxSteps ?? 50;
    if (this.current.length >= max) {
      throw new EngineError("VALIDATION_FAILED", 422, `A snapshot holds at most ${max} steps`, {
        limit: max,
      });
    }
    this.assertName(step.name);
    this.assertInput(step.input, this.current.length);
    return this.commit([...this.current, { ...step, config: null }], step.stepKey);
  }

  update(stepKey: string, patch: { name?: string; input?: string }): StepResult {
    const index = this.current.findIndex((s) => s.stepKey === this.find(stepKey).stepKey);
    const before = this.current[index];
    if (patch.name !== undefined) this.assertName(patch.name, stepKey);
    if (patch.input !== undefined) this.assertInput(patch.input, index);
    const next = [...this.current];
    next[index] = { ...before, name: patch.name ?? before.name, input: patch.input ?? before.input };
    return this.commit(next, stepKey);
  }

  setConfig(stepKey: string, config: unknown): StepResult {
    const index = this.current.findIndex((s) => s.stepKey === this.find(stepKey).stepKey);
    const next = [...this.current];
    next[index] = { ...this.current[index], config };
    return this.commit(next, stepKey);
  }

  delete(stepKey: string): WorkingStep {
    const step = this.find(stepKey);
    const dependants = dependantsOf(this.current, stepKey);
    if (dependants.length > 0) {
      throw new EngineError(
        "STEP_NOT_DELETABLE",
        422,
        `The step is used by ${dependants.map((d) => d.name).join(", ")}`,
        { dependants },
      );
    }
    this.current = this.current.filter((s) => s.stepKey !== stepKey);
    this.replayed = this.replay(this.current);
    return step;
  }

  /** Dependants (transitively) of a step whose status is not ok after the last change. */
  brokenDependants(stepKey: string) {
    const seen = new Set([stepKey]);
    const broken: { stepKey: string; name: string; status: string; error: unknown }[] = [];
    for (const s of this.current) {
      const refs = [s.input, ...tableSources(s)];
      if (s.stepKey === stepKey || !refs.some((k) => seen.has(k))) continue;
      seen.add(s.stepKey);
      const r = this.replayed.byKey.get(s.stepKey)!;
      if (r.status === "invalid" || r.status === "blocked") {
        broken.push({ stepKey: s.stepKey, name: s.name, status: r.status, error: r.error });
      }
    }
    return broken;
  }
}

function tableSources(step: WorkingStep): string[] {
  const config = step.config as { tableFilter?: { sourceStepKey?: unknown } | null } | null;
  const key = config?.tableFilter?.sourceStepKey;
  return step.type === "filter" && typeof key === "string" ? [key] : [];
}

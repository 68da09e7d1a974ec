import { Logger } from '@nestjs/common';
import { SHUTDOWN_STAGES, ShutdownStage } from './shutdown-stage.js';

/**
 * Releases one resource. `signal` aborts when the step's time is up; `deadlineAt` (epoch ms) tells
 * a step that drains work when it must start abandoning it to finish in time.
 */
export type TeardownFn = (signal: AbortSignal, deadlineAt: number) => Promise<void> | void;

interface TeardownStep {
  readonly stage: ShutdownStage;
  readonly name: string;
  readonly teardown: TeardownFn;
  run?: Promise<StepOutcome>;
}

export type StepOutcome = 'done' | 'failed' | 'timed-out';

export interface StepReport {
  stage: ShutdownStage;
  name: string;
  outcome: StepOutcome;
  durationMs: number;
}

export interface ShutdownCoordinatorOptions {
  /** The whole teardown is bounded by this; a step that hangs is abandoned at the deadline. */
  timeoutMs: number;
  /**
   * Time a step still gets once the deadline has passed, so that a hung early stage cannot
   * stop the database from being closed.
   */
  lateStepGraceMs?: number;
}

export type StepListener = (report: StepReport) => void;

/**
 * Owns the order in which the module's resources are released (docs/ARCHITECTURE.md, "Invariant 2").
 *
 * Nest runs no shutdown hook for providers that initialised before a sibling's `onModuleInit`
 * threw, and siblings of one module initialise concurrently, so teardown cannot be left to Nest:
 * every resource registers its step here the moment it exists, and `shutdown()` runs them stage by
 * stage whether it was reached from `app.close()` or from a failed start.
 */
export class ShutdownCoordinator {
  private readonly logger = new Logger('Shutdown');
  private readonly steps: TeardownStep[] = [];
  private readonly listeners: StepListener[] = [];
  private readonly abort = new AbortController();
  private shutdownRun?: Promise<StepReport[]>;
  private deadline = Number.POSITIVE_INFINITY;
  private readonly lateStepGraceMs: number;

  constructor(private readonly options: ShutdownCoordinatorOptions) {
    this.lateStepGraceMs = options.lateStepGraceMs ?? Math.min(1000, options.timeoutMs);
  }

  get isShuttingDown(): boolean {
    return this.shutdownRun !== undefined;
  }

  /** Aborted the moment teardown begins: long-running loops watch it to stop taking work. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  onStep(listener: StepListener): void {
    this.listeners.push(listener);
  }

  /**
   * Registers the teardown of a resource that now exists. When teardown has already begun (a
   * sibling failed to start while this one was still allocating) the step runs at once.
   */
  register(stage: ShutdownStage, name: string, teardown: TeardownFn): void {
    const step: TeardownStep = { stage, name, teardown };
    this.steps.push(step);
    if (this.isShuttingDown) {
      void this.runStep(step);
    }
  }

  /**
   * Runs a startup action; when it fails, tears down everything registered so far and rethrows
   * the original error, so that the caller sees the cause and not a teardown error.
   */
  async guardStartup<T>(what: string, start: () => Promise<T> | T): Promise<T> {
    try {
      return await start();
    } catch (error) {
      this.logger.error(`Startup failed in ${what}: ${errorMessage(error)}`);
      await this.shutdown(`startup failure in ${what}`);
      throw error;
    }
  }

  /** Idempotent: every caller gets the one teardown run. */
  shutdown(reason = 'shutdown requested'): Promise<StepReport[]> {
    this.shutdownRun ??= this.runAll(reason);
    return this.shutdownRun;
  }

  private async runAll(reason: string): Promise<StepReport[]> {
    this.deadline = Date.now() + this.options.timeoutMs;
    this.logger.log(`Shutting down (${reason}), deadline ${this.options.timeoutMs}ms`);
    this.abort.abort(new Error(reason));
    const reports: StepReport[] = [];
    for (const stage of SHUTDOWN_STAGES) {
      // Read the list at each stage: a step registered while an earlier stage ran belongs here.
      const stepsOfStage = this.steps.filter((step) => step.stage === stage);
      // Within a stage the steps are independent; releasing in reverse registration order
      // mirrors how they were stacked up.
      for (const step of stepsOfStage.reverse()) {
        reports.push(await this.reportOf(step));
      }
    }
    // Steps registered at once after their stage had passed ran outside the loop: wait for them
    // too, so that "shutdown finished" means every known resource is released.
    await Promise.all(this.steps.map((step) => step.run));
    return reports;
  }

  private async reportOf(step: TeardownStep): Promise<StepReport> {
    const started = Date.now();
    const outcome = await this.runStep(step);
    return { stage: step.stage, name: step.name, outcome, durationMs: Date.now() - started };
  }

  private runStep(step: TeardownStep): Promise<StepOutcome> {
    step.run ??= this.execute(step);
    return step.run;
  }

  private async execute(step: TeardownStep): Promise<StepOutcome> {
    const label = `Shutdown step '${step.stage}'`;
    const budgetMs = Math.max(this.deadline - Date.now(), this.lateStepGraceMs);
    const stepAbort = new AbortController();
    const started = Date.now();
    this.logger.log(`${label} started`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      timer = setTimeout(() => resolve('timed-out'), budgetMs);
    });
    let outcome: StepOutcome;
    try {
      const result = await Promise.race([
        Promise.resolve()
          .then(() => step.teardown(stepAbort.signal, started + budgetMs))
          .then(() => 'done' as const),
        timedOut,
      ]);
      outcome = result;
    } catch (error) {
      outcome = 'failed';
      this.logger.error(`${label} failed: ${errorMessage(error)}`);
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Date.now() - started;
    if (outcome === 'done') {
      this.logger.log(`${label} done in ${durationMs}ms`);
    } else if (outcome === 'timed-out') {
      // Tell the hung step to give up, so whatever it still holds is dropped rather than leaked.
      stepAbort.abort(new Error(`${label} timed out`));
      this.logger.error(`${label} timed out after ${budgetMs}ms`);
    }
    const report: StepReport = { stage: step.stage, name: step.name, outcome, durationMs };
    for (const listener of this.listeners) listener(report);
    return outcome;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

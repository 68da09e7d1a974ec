import { jest } from '@jest/globals';
import { ShutdownCoordinator, type StepReport } from '../../src/lifecycle/shutdown-coordinator.js';
import { SHUTDOWN_STAGES } from '../../src/lifecycle/shutdown-stage.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';

describe('ShutdownCoordinator', () => {
  let logs: LogCapture;

  beforeEach(() => {
    logs = new LogCapture().install();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs steps in the documented stage order, whatever order they were registered in', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    const ran: string[] = [];
    for (const stage of [...SHUTDOWN_STAGES].reverse()) {
      coordinator.register(stage, stage, () => void ran.push(stage));
    }
    await coordinator.shutdown();
    expect(ran).toEqual([...SHUTDOWN_STAGES]);
    expect(logs.shutdownSteps).toEqual(
      SHUTDOWN_STAGES.flatMap((stage) => [
        `Shutdown step '${stage}' started`,
        expect.stringMatching(new RegExp(`^Shutdown step '${stage}' done in \\d+ms$`)),
      ]),
    );
  });

  it('logs a failing step and still runs the later ones', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    const ran: string[] = [];
    coordinator.register('webhooks', 'outbox', () => {
      throw new Error('receiver gone');
    });
    coordinator.register('database', 'registry', () => void ran.push('database'));
    const reports = await coordinator.shutdown();
    expect(ran).toEqual(['database']);
    expect(reports.map((report) => [report.stage, report.outcome])).toEqual([
      ['webhooks', 'failed'],
      ['database', 'done'],
    ]);
    expect(logs.shutdownSteps).toContain("Shutdown step 'webhooks' failed: receiver gone");
  });

  it('abandons a hanging step at the deadline, aborts it, and bounds the whole teardown', async () => {
    // A clock that moves only when told to: "at the deadline" is then an exact instant, however
    // busy the machine is.
    jest.useFakeTimers();
    const coordinator = new ShutdownCoordinator({ timeoutMs: 300, lateStepGraceMs: 100 });
    let hangAborted = false;
    const ran: string[] = [];
    coordinator.register('consolidation', 'batches', (signal) => {
      signal.addEventListener('abort', () => (hangAborted = true));
      return new Promise(() => undefined);
    });
    coordinator.register('database', 'registry', () => void ran.push('database'));
    let finished = false;
    const started = Date.now();
    const shutdown = coordinator.shutdown().finally(() => (finished = true));

    await jest.advanceTimersByTimeAsync(299);
    expect({ finished, hangAborted, ran }).toEqual({ finished: false, hangAborted: false, ran: [] });

    await jest.advanceTimersByTimeAsync(1);
    expect(hangAborted).toBe(true);
    await jest.runAllTimersAsync();
    const reports = await shutdown;
    // The whole teardown: the deadline, plus at most the grace of the steps after it.
    expect(Date.now() - started).toBeLessThanOrEqual(300 + 100);
    expect(reports.map((report) => report.outcome)).toEqual(['timed-out', 'done']);
    expect(ran).toEqual(['database']);
    expect(hangAborted).toBe(true);
    expect(logs.shutdownSteps).toContainEqual(expect.stringMatching(/^Shutdown step 'consolidation' timed out after \d+ms$/));
  });

  it('gives the steps after a hung one a grace period instead of skipping them', async () => {
    jest.useFakeTimers();
    const coordinator = new ShutdownCoordinator({ timeoutMs: 100, lateStepGraceMs: 200 });
    coordinator.register('scheduler', 'hangs', () => new Promise(() => undefined));
    let closed = false;
    // Starts when the deadline has already passed, and needs longer than nothing to close.
    coordinator.register('database', 'slow close', async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      closed = true;
    });
    const shutdown = coordinator.shutdown();
    // Every timer, in the order they are due: the hung step's deadline, then whichever of the
    // close (150 ms) and its grace (200 ms) comes first.
    await jest.runAllTimersAsync();
    const reports = await shutdown;
    expect(reports.map((report) => [report.stage, report.outcome])).toEqual([
      ['scheduler', 'timed-out'],
      ['database', 'done'],
    ]);
    expect(closed).toBe(true);
  });

  it('runs a step registered after teardown began at once', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    await coordinator.shutdown();
    const reported = new Promise<StepReport>((resolve) => coordinator.onStep(resolve));
    let released = false;
    coordinator.register('operations', 'late worker', () => {
      released = true;
    });
    expect(await reported).toMatchObject({ stage: 'operations', name: 'late worker', outcome: 'done' });
    expect(released).toBe(true);
    expect(logs.shutdownSteps).toEqual(expect.arrayContaining(["Shutdown step 'operations' started"]));
  });

  it('is idempotent: concurrent and repeated shutdowns run each step once', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    let runs = 0;
    let finishStep!: () => void;
    const stepMayFinish = new Promise<void>((resolve) => (finishStep = resolve));
    coordinator.register('database', 'registry', async () => {
      runs += 1;
      await stepMayFinish;
    });
    const first = coordinator.shutdown();
    // A second caller arrives while the step is still running.
    await eventually(
      () => runs,
      (count) => count === 1,
    );
    const second = coordinator.shutdown();
    finishStep();
    const [firstReports, secondReports] = await Promise.all([first, second]);
    await coordinator.shutdown();
    expect(firstReports).toBe(secondReports);
    expect(runs).toBe(1);
  });

  it('aborts its signal the moment teardown begins, so loops stop taking work', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    expect(coordinator.signal.aborted).toBe(false);
    const pending = coordinator.shutdown();
    expect(coordinator.signal.aborted).toBe(true);
    expect(coordinator.isShuttingDown).toBe(true);
    await pending;
  });

  it('rethrows the original startup error after tearing down, even when teardown fails', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    const released: string[] = [];
    coordinator.register('database', 'registry', () => {
      released.push('database');
      throw new Error('close failed too');
    });
    const original = new Error('scheduler could not start');
    await expect(
      coordinator.guardStartup('scheduler', () => {
        throw original;
      }),
    ).rejects.toBe(original);
    expect(released).toEqual(['database']);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { ShutdownCoordinator } from '../../src/lifecycle/shutdown-coordinator.js';
import { SHUTDOWN_STAGES } from '../../src/lifecycle/shutdown-stage.js';
import { LogCapture } from '../helpers/log-capture.js';

describe('ShutdownCoordinator', () => {
  let logs: LogCapture;

  beforeEach(() => {
    logs = new LogCapture().install();
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
      SHUTDOWN_STAGES.flatMap((stage) => [`Shutdown step '${stage}' started`, expect.stringMatching(new RegExp(`^Shutdown step '${stage}' done in \\d+ms$`))]),
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
    const coordinator = new ShutdownCoordinator({ timeoutMs: 300, lateStepGraceMs: 100 });
    let hangAborted = false;
    const ran: string[] = [];
    coordinator.register('consolidation', 'batches', (signal) => {
      signal.addEventListener('abort', () => (hangAborted = true));
      return new Promise(() => undefined);
    });
    coordinator.register('database', 'registry', () => void ran.push('database'));
    const started = Date.now();
    const reports = await coordinator.shutdown();
    const elapsed = Date.now() - started;
    expect(reports.map((report) => report.outcome)).toEqual(['timed-out', 'done']);
    expect(ran).toEqual(['database']);
    expect(hangAborted).toBe(true);
    expect(elapsed).toBeLessThan(300 + 100 + 200);
    expect(logs.shutdownSteps).toContain("Shutdown step 'consolidation' timed out after 300ms");
  });

  it('gives the steps after a hung one a grace period instead of skipping them', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 100, lateStepGraceMs: 200 });
    coordinator.register('scheduler', 'hangs', () => new Promise(() => undefined));
    let closed = false;
    coordinator.register('database', 'slow close', async () => {
      await sleep(50);
      closed = true;
    });
    await coordinator.shutdown();
    expect(closed).toBe(true);
  });

  it('runs a step registered after teardown began at once', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    await coordinator.shutdown();
    let released = false;
    coordinator.register('operations', 'late worker', () => {
      released = true;
    });
    await sleep(10);
    expect(released).toBe(true);
    expect(logs.shutdownSteps).toEqual(expect.arrayContaining(["Shutdown step 'operations' started"]));
  });

  it('is idempotent: concurrent and repeated shutdowns run each step once', async () => {
    const coordinator = new ShutdownCoordinator({ timeoutMs: 1000 });
    let runs = 0;
    coordinator.register('database', 'registry', async () => {
      runs += 1;
      await sleep(20);
    });
    const [first, second] = await Promise.all([coordinator.shutdown(), coordinator.shutdown()]);
    await coordinator.shutdown();
    expect(first).toBe(second);
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

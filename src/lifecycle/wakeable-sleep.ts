/**
 * The pause of a polling loop: it ends at the next poll, when someone rings because there is
 * work (`wake()`), or when the loop is stopped, whichever comes first. Each sleeper is kept only
 * while it sleeps, so loops that poll for days hold no more than one entry each.
 */
export class WakeableSleep {
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly stopped: AbortSignal) {}

  sleep(ms: number): Promise<void> {
    if (this.stopped.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopped.removeEventListener('abort', done);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopped.addEventListener('abort', done);
      this.sleepers.add(done);
    });
  }

  /** Ends every sleep now in progress. */
  wake(): void {
    for (const done of [...this.sleepers]) done();
  }

  get sleeping(): number {
    return this.sleepers.size;
  }
}

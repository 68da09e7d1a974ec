/**
 * One abort signal for one external call, fed by the caller's signal, the owner's "closed"
 * signal and an optional deadline, and able to say afterwards which of them fired, so the error
 * can say `timeout`, `aborted` or `closed` truthfully.
 *
 * Written out rather than `AbortSignal.any`: the closed signal lives as long as the process, and
 * every call would otherwise leave a listener on it until garbage collection gets round to it;
 * `dispose()` removes them, and clears the deadline timer, the moment the call settles.
 */
export class CallSignal {
  private readonly controller = new AbortController();
  private readonly unlinks: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private deadlinePassed = false;

  constructor(private readonly sources: { caller?: AbortSignal; closed?: AbortSignal; timeoutMs?: number }) {
    for (const source of [sources.closed, sources.caller]) {
      if (source) this.follow(source);
    }
    if (sources.timeoutMs !== undefined && !this.controller.signal.aborted) {
      this.timer = setTimeout(() => {
        this.deadlinePassed = true;
        this.controller.abort(new Error(`deadline of ${sources.timeoutMs}ms passed`));
      }, sources.timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Which source ended the call, if any; the owner closing wins over the rest. */
  get abortedBy(): 'closed' | 'caller' | 'deadline' | undefined {
    if (this.sources.closed?.aborted) return 'closed';
    if (this.sources.caller?.aborted) return 'caller';
    if (this.deadlinePassed) return 'deadline';
    return undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const unlink of this.unlinks.splice(0)) unlink();
  }

  private follow(source: AbortSignal): void {
    if (source.aborted) {
      this.controller.abort(source.reason);
      return;
    }
    const onAbort = () => this.controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    this.unlinks.push(() => source.removeEventListener('abort', onAbort));
  }
}

/** Runs `work` with a call signal that is always disposed, whichever way the call ends. */
export async function withCallSignal<T>(
  sources: ConstructorParameters<typeof CallSignal>[0],
  work: (call: CallSignal) => Promise<T>,
): Promise<T> {
  const call = new CallSignal(sources);
  try {
    return await work(call);
  } finally {
    call.dispose();
  }
}

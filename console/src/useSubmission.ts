import { useCallback, useRef, useState } from 'react';

export interface Submission {
  busy: boolean;
  /** What the last run threw; cleared when the next one starts. */
  error: unknown;
  /**
   * Runs `work` unless a run is under way (a second Enter on a slow recall is not a second
   * request), keeping `busy` and `error` in step with it; true when it finished without throwing.
   */
  run: (work: () => Promise<void>) => Promise<boolean>;
}

/** The state every form that calls the API on submit keeps: busy while the call runs, and its error. */
export function useSubmission(): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  // A ref as well as the state: two submits in one tick both see the state from before either.
  const running = useRef(false);
  const run = useCallback(async (work: () => Promise<void>) => {
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

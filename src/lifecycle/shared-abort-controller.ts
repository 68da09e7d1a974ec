import { setMaxListeners } from 'node:events';

/**
 * An AbortController for the signal that every call in flight follows while it runs and unlinks
 * from when it ends (a `CallSignal`, a retry's pause). Its listeners are the calls in flight, not
 * a leak, so Node's warning at the eleventh ("Possible EventTarget memory leak detected") would
 * fire in production logs whenever more than ten calls run at once: the limit is lifted for this
 * signal only. That the listeners do go away is tested (test/external/shared-abort.spec.ts).
 */
export function sharedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

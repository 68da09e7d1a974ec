import type { Request } from 'express';

/**
 * Aborted when the client goes away before the answer is sent, so a recall or a sync retain
 * stops calling the embedder for nobody. `close` on the response also fires after a normal
 * finish, which is then a no-op.
 */
export function requestSignal(request: Request): AbortSignal {
  const controller = new AbortController();
  request.res?.once('close', () => {
    if (!request.res?.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

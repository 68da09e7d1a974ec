import { errorText } from './format';

/** An error the reader must see: announced at once (role=alert), with the server's own message. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  const status = typeof error === 'object' && 'status' in error && typeof error.status === 'number' ? error.status : undefined;
  return (
    <div className="error-notice" role="alert">
      {title && <strong>{title}: </strong>}
      {errorText(error)}
      {status !== undefined && <span className="muted"> (HTTP {status})</span>}
    </div>
  );
}

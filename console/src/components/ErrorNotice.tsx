import { ApiError } from '../api';

/** A failed call, said once with what the server said; a 401 is the key form's to show. */
export function ErrorNotice({ error, title = 'Request failed' }: { error: unknown; title?: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.status === 401) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-notice" role="alert">
      <strong>{title}:</strong> {message}
    </div>
  );
}

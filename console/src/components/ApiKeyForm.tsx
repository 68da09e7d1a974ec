import { type FormEvent, useId, useState } from 'react';

interface ApiKeyFormProps {
  /** Set when the key last used was refused, so the form says so instead of only asking. */
  invalid: boolean;
  onSubmit: (key: string) => void;
}

/** Shown whenever the API answers 401: the console itself holds no data, the key guards it all. */
export function ApiKeyForm({ invalid, onSubmit }: ApiKeyFormProps) {
  const id = useId();
  const [key, setKey] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    onSubmit(key.trim());
  }

  return (
    <section className="key-form" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>This server needs a key</h1>
      <p>Enter the server&apos;s key (MEMORY_API_KEY). The console keeps it in this browser tab only.</p>
      {invalid && (
        <p className="error-notice" role="alert">
          Invalid API key
        </p>
      )}
      <form onSubmit={submit} className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-key`}>API key</label>
          <input
            id={`${id}-key`}
            type="password"
            autoComplete="off"
            required
            value={key}
            onChange={(event) => setKey(event.target.value)}
          />
        </div>
        <button type="submit">Use key</button>
      </form>
    </section>
  );
}

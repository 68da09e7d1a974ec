import { type FormEvent, useId, useState } from 'react';
import { apiFetch, bankPath } from '../api';
import { ErrorNotice } from './ErrorNotice';
import { useSubmission } from '../useSubmission';

function splitTags(value: string): string[] {
  return value
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
}

/** Synchronous retain: the answer comes once the memories are stored, so the list can reload at once. */
export function RetainForm({ bankId, onRetained }: { bankId: string; onRetained: () => void }) {
  const id = useId();
  const [content, setContent] = useState('');
  const [context, setContext] = useState('');
  const [tags, setTags] = useState('');
  const [documentId, setDocumentId] = useState('');
  const { busy, error, run } = useSubmission();
  const [done, setDone] = useState<string>();
  // Rendered only when asked for: their labels would otherwise share words with the list's filters.
  const [moreFields, setMoreFields] = useState(false);

  async function retain(event: FormEvent) {
    event.preventDefault();
    setDone(undefined);
    const item = {
      content,
      ...(context.trim() && { context: context.trim() }),
      ...(splitTags(tags).length > 0 && { tags: splitTags(tags) }),
      ...(documentId.trim() && { document_id: documentId.trim() }),
    };
    await run(async () => {
      await apiFetch(bankPath(bankId, '/memories'), { method: 'POST', body: { items: [item], async: false } });
      setContent('');
      setDone('Retained.');
      onRetained();
    });
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Retain a memory</h2>
      <form onSubmit={(event) => void retain(event)}>
        <div className="field">
          <label htmlFor={`${id}-content`}>Content</label>
          <textarea id={`${id}-content`} required value={content} onChange={(event) => setContent(event.target.value)} />
        </div>
        <button type="button" className="link-button" aria-expanded={moreFields} onClick={() => setMoreFields((open) => !open)}>
          {moreFields ? 'Fewer fields' : 'More fields'}
        </button>
        {moreFields && (
          <div className="inline-form">
            <div className="field">
              <label htmlFor={`${id}-context`}>Context</label>
              <input id={`${id}-context`} value={context} onChange={(event) => setContext(event.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-tags`}>Tags (comma separated)</label>
              <input id={`${id}-tags`} value={tags} onChange={(event) => setTags(event.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-document`}>Document ID</label>
              <input id={`${id}-document`} value={documentId} onChange={(event) => setDocumentId(event.target.value)} />
            </div>
          </div>
        )}
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            Retain
          </button>
          {busy && (
            <span className="muted" role="status">
              Retaining…
            </span>
          )}
          {done && (
            <span className="success-notice" role="status">
              {done}
            </span>
          )}
        </div>
      </form>
      <ErrorNotice error={error} title="Retain failed" />
    </section>
  );
}

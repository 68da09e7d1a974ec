import { type FormEvent, useId, useState } from 'react';
import { apiFetch, bankPath } from '../api';
import { BankSize } from '../components/BankSize';
import { BudgetFields } from '../components/play/BudgetFields';
import { ErrorAlert } from '../components/play/Notice';
import { TimingBars, type TimingStage } from '../components/play/TimingBars';
import '../components/play/play.css';
import { useSubmission } from '../useSubmission';
import { type Budget, type ReflectResponseWire, bankHref } from '../components/play/wire';

interface Answered {
  response: ReflectResponseWire;
  /** Measured here, request to answer: the response reports each call, not the whole. */
  roundTripMs: number;
}

/** A call's label gains its number only when there are several of its kind. */
function numbered<T>(calls: T[], name: (call: T) => string): string[] {
  const names = calls.map(name);
  const counts = new Map<string, number>();
  for (const each of names) counts.set(each, (counts.get(each) ?? 0) + 1);
  const seen = new Map<string, number>();
  return names.map((each) => {
    if (counts.get(each) === 1) return each;
    const nth = (seen.get(each) ?? 0) + 1;
    seen.set(each, nth);
    return `${each} ${nth}`;
  });
}

function timingStages(answered: Answered): TimingStage[] {
  const trace = answered.response.trace;
  const tools = trace?.tool_calls ?? [];
  const llmCalls = trace?.llm_calls ?? [];
  const toolNames = numbered(tools, (call) => call.tool);
  const llmNames = numbered(llmCalls, (call) => `LLM ${call.scope}`);
  return [
    ...tools.map((call, index): TimingStage => ({ label: toolNames[index], ms: call.duration_ms })),
    ...llmCalls.map((call, index): TimingStage => ({ label: llmNames[index], ms: call.duration_ms })),
    { label: 'round trip', ms: answered.roundTripMs, kind: 'total' },
  ];
}

export default function ReflectPlayground({ bankId }: { bankId: string }) {
  const ids = useId();
  const [query, setQuery] = useState('');
  const [budget, setBudget] = useState<Budget>('low');
  const [context, setContext] = useState('');
  const [maxTokens, setMaxTokens] = useState('');
  const { busy, error, run } = useSubmission();
  const [answered, setAnswered] = useState<Answered>();

  async function reflect(event: FormEvent) {
    event.preventDefault();
    const started = performance.now();
    const succeeded = await run(async () => {
      const response = await apiFetch<ReflectResponseWire>(bankPath(bankId, '/reflect'), {
        method: 'POST',
        body: {
          query,
          budget,
          // The trace carries each tool and LLM call's duration; their outputs would only repeat the answer's sources.
          include: { tool_calls: { output: false } },
          ...(context.trim() && { context }),
          ...(maxTokens !== '' && { max_tokens: Number(maxTokens) }),
        },
      });
      setAnswered({ response, roundTripMs: performance.now() - started });
    });
    if (!succeeded) setAnswered(undefined);
  }

  const response = answered?.response;
  return (
    <div className="play-page">
      <h1>Reflect</h1>
      <p className="muted">
        Asks <BankSize bankId={bankId} /> a question: the answer is written from the memories recall finds, and names the ones it rests on.
      </p>
      <form className="filters play-form" onSubmit={(event) => void reflect(event)}>
        <div className="field play-field-wide">
          <label htmlFor={`${ids}-query`}>Query</label>
          <input id={`${ids}-query`} type="text" required value={query} onChange={(event) => setQuery(event.target.value)} />
        </div>
        <div className="field play-field-wide">
          <label htmlFor={`${ids}-context`}>Context</label>
          <textarea
            id={`${ids}-context`}
            rows={2}
            value={context}
            aria-describedby={`${ids}-context-help`}
            onChange={(event) => setContext(event.target.value)}
          />
          <small id={`${ids}-context-help`}>Optional; added to the question as additional context.</small>
        </div>
        <BudgetFields idPrefix={ids} budget={budget} onBudget={setBudget} maxTokens={maxTokens} onMaxTokens={setMaxTokens} minTokens={1} />
        <div className="form-actions">
          <button type="submit" aria-disabled={busy}>
            Reflect
          </button>
          {busy && (
            <span role="status" className="muted">
              Reflecting…
            </span>
          )}
        </div>
      </form>

      <ErrorAlert error={error} title="Reflect failed" />

      {answered && response && (
        <>
          <section aria-labelledby={`${ids}-answer`} className="panel">
            <h2 id={`${ids}-answer`}>Answer</h2>
            {response.extractive && (
              <p className="play-note">No LLM is configured, so this answer quotes the best-matching memories instead of writing one.</p>
            )}
            <blockquote className="play-answer">{response.text}</blockquote>
          </section>

          <section aria-labelledby={`${ids}-based-on`} className="panel">
            <h2 id={`${ids}-based-on`}>Based on</h2>
            <h3>Memories ({response.based_on.memories.length})</h3>
            {response.based_on.memories.length === 0 ? (
              <p>No memory.</p>
            ) : (
              <ul className="play-list">
                {response.based_on.memories.map((memory, index) => (
                  <li key={memory.id ?? index}>
                    {memory.id ? <a href={bankHref(bankId, `/memories/${encodeURIComponent(memory.id)}`)}>{memory.text}</a> : memory.text}
                    {memory.type && <span className="badge">{memory.type}</span>}
                  </li>
                ))}
              </ul>
            )}
            <h3>Mental models ({response.based_on.mental_models.length})</h3>
            {response.based_on.mental_models.length === 0 ? (
              <p>None.</p>
            ) : (
              <ul className="play-list">
                {response.based_on.mental_models.map((model) => (
                  <li key={model.id}>{model.text}</li>
                ))}
              </ul>
            )}
            <h3>Directives ({response.based_on.directives.length})</h3>
            {response.based_on.directives.length === 0 ? (
              <p>None.</p>
            ) : (
              <ul className="play-list">
                {response.based_on.directives.map((directive) => (
                  <li key={directive.id}>
                    <strong>{directive.name}</strong>: {directive.content}
                  </li>
                ))}
              </ul>
            )}
          </section>

          <section aria-labelledby={`${ids}-usage`} className="panel">
            <h2 id={`${ids}-usage`}>Usage and timing</h2>
            <dl className="facts">
              <div>
                <dt>Input tokens</dt>
                <dd>{response.usage.input_tokens}</dd>
              </div>
              <div>
                <dt>Output tokens</dt>
                <dd>{response.usage.output_tokens}</dd>
              </div>
              <div>
                <dt>Total tokens</dt>
                <dd>{response.usage.total_tokens}</dd>
              </div>
              {response.usage.cached_tokens > 0 && (
                <div>
                  <dt>Cached tokens</dt>
                  <dd>{response.usage.cached_tokens}</dd>
                </div>
              )}
            </dl>
            <TimingBars label="Reflect timing" stages={timingStages(answered)} />
          </section>
        </>
      )}
    </div>
  );
}

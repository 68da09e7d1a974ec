import { type FormEvent, useId, useState } from 'react';
import { apiFetch, bankPath } from '../api';
import { BankSize } from '../components/BankSize';
import { BudgetFields } from '../components/play/BudgetFields';
import { ErrorAlert } from '../components/play/Notice';
import { TimingBars, type TimingStage } from '../components/play/TimingBars';
import { formatDateTime, formatScore } from '../components/play/format';
import '../components/play/play.css';
import { useSubmission } from '../useSubmission';
import {
  ARM_NAMES,
  FACT_TYPES,
  type ArmName,
  type Budget,
  type FactType,
  type RecallResponseWire,
  type RecallTraceWire,
  TAGS_MATCHES,
  type TagsMatch,
  bankHref,
} from '../components/play/wire';

interface ArmHit {
  rank: number;
  score: number;
}

interface ResultRow {
  id: string;
  text: string;
  type: string;
  final: number | undefined;
  fused: number | undefined;
  reranker: number | undefined;
  arms: Partial<Record<ArmName, ArmHit>>;
}

/** Joins each result to its trace entries: the fused score and every arm's own rank and score. */
function toRows(response: RecallResponseWire): ResultRow[] {
  const trace = response.trace;
  const fused = new Map(trace?.fusion.candidates.map((candidate) => [candidate.id, candidate.score]));
  const perArm = new Map<ArmName, Map<string, ArmHit>>(
    (trace?.arms ?? []).map((arm) => [arm.name, new Map(arm.candidates.map((hit) => [hit.id, { rank: hit.rank, score: hit.score }]))]),
  );
  return response.results.map((result) => ({
    id: result.id,
    text: result.text,
    type: result.type ?? '',
    final: result.scores?.final,
    fused: fused.get(result.id),
    reranker: result.scores?.reranker,
    arms: Object.fromEntries(
      ARM_NAMES.flatMap((arm) => {
        const hit = perArm.get(arm)?.get(result.id);
        return hit ? [[arm, hit]] : [];
      }),
    ),
  }));
}

function timingStages(trace: RecallTraceWire): TimingStage[] {
  return [
    { label: 'embedding', ms: trace.embedding_ms },
    ...trace.arms.map((arm): TimingStage => ({ label: arm.name, ms: arm.duration_ms, kind: 'arm' })),
    ...(trace.rerank.status === 'disabled' ? [] : [{ label: 'rerank', ms: trace.rerank_ms }]),
    { label: 'total', ms: trace.total_ms, kind: 'total' },
  ];
}

interface Submitted {
  response: RecallResponseWire;
  rows: ResultRow[];
}

export default function RecallPlayground({ bankId }: { bankId: string }) {
  const ids = useId();
  const [query, setQuery] = useState('');
  const [time, setTime] = useState('');
  const [tags, setTags] = useState('');
  const [tagsMatch, setTagsMatch] = useState<TagsMatch>('any');
  const [types, setTypes] = useState<FactType[]>([]);
  const [budget, setBudget] = useState<Budget>('mid');
  const [maxTokens, setMaxTokens] = useState('');
  const { busy, error, run } = useSubmission();
  const [submitted, setSubmitted] = useState<Submitted>();

  async function recall(event: FormEvent) {
    event.preventDefault();
    const tagList = tags
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean);
    // datetime-local has no zone: it is the reader's local time, sent as the instant it names.
    const queryTimestamp = time ? new Date(time).toISOString() : undefined;
    const answered = await run(async () => {
      const response = await apiFetch<RecallResponseWire>(bankPath(bankId, '/memories/recall'), {
        method: 'POST',
        body: {
          query,
          budget,
          trace: true,
          ...(maxTokens !== '' && { max_tokens: Number(maxTokens) }),
          ...(queryTimestamp && { query_timestamp: queryTimestamp }),
          ...(tagList.length > 0 && { tags: tagList, tags_match: tagsMatch }),
          ...(types.length > 0 && { types }),
        },
      });
      setSubmitted({ response, rows: toRows(response) });
    });
    if (!answered) setSubmitted(undefined);
  }

  const trace = submitted?.response.trace;
  return (
    <div className="play-page">
      <h1>Recall</h1>
      <p className="muted">
        Runs recall on <BankSize bankId={bankId} /> with its trace: every arm&apos;s rank and score, the fused score and the time each stage
        took.
      </p>
      <form className="filters play-form" onSubmit={(event) => void recall(event)}>
        <div className="field play-field-wide">
          <label htmlFor={`${ids}-query`}>Query</label>
          <input id={`${ids}-query`} type="text" required value={query} onChange={(event) => setQuery(event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-time`}>Time</label>
          <input
            id={`${ids}-time`}
            type="datetime-local"
            step={1}
            value={time}
            aria-describedby={`${ids}-time-help`}
            onChange={(event) => setTime(event.target.value)}
          />
          <small id={`${ids}-time-help`}>&ldquo;Now&rdquo; for dates like &ldquo;last week&rdquo;; empty is the current time.</small>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-tags`}>Tags</label>
          <input
            id={`${ids}-tags`}
            type="text"
            value={tags}
            placeholder="comma separated"
            aria-describedby={`${ids}-tags-help`}
            onChange={(event) => setTags(event.target.value)}
          />
          <small id={`${ids}-tags-help`}>Comma separated; empty searches every memory.</small>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-tags-match`}>Tags match</label>
          <select id={`${ids}-tags-match`} value={tagsMatch} onChange={(event) => setTagsMatch(event.target.value as TagsMatch)}>
            {TAGS_MATCHES.map((match) => (
              <option key={match} value={match}>
                {match}
              </option>
            ))}
          </select>
        </div>
        <BudgetFields idPrefix={ids} budget={budget} onBudget={setBudget} maxTokens={maxTokens} onMaxTokens={setMaxTokens} minTokens={0} />
        <fieldset className="field play-types">
          <legend>Types</legend>
          {FACT_TYPES.map((type) => (
            <label key={type}>
              <input
                type="checkbox"
                checked={types.includes(type)}
                onChange={(event) =>
                  setTypes((chosen) => (event.target.checked ? [...chosen, type] : chosen.filter((each) => each !== type)))
                }
              />{' '}
              {type}
            </label>
          ))}
          <small>None ticked: all three.</small>
        </fieldset>
        <div className="form-actions">
          <button type="submit" aria-disabled={busy}>
            Recall
          </button>
          {busy && (
            <span role="status" className="muted">
              Recalling…
            </span>
          )}
        </div>
      </form>

      <ErrorAlert error={error} title="Recall failed" />

      {submitted && trace && (
        <section aria-labelledby={`${ids}-summary`} className="panel">
          <h2 id={`${ids}-summary`}>Summary</h2>
          <dl className="facts">
            <div>
              <dt>Results</dt>
              <dd>{submitted.rows.length}</dd>
            </div>
            <div>
              <dt>Tokens used</dt>
              <dd>{trace.tokens}</dd>
            </div>
            <div>
              <dt>Trimmed by the token budget</dt>
              <dd>{trace.trimmed}</dd>
            </div>
            <div>
              <dt>Candidates per arm</dt>
              <dd>{trace.candidates_per_arm}</dd>
            </div>
            <div>
              <dt>Fusion</dt>
              <dd>
                {trace.fusion.method.toUpperCase()}, k = {trace.fusion.k}, {trace.fusion.candidates.length} candidates
              </dd>
            </div>
            <div>
              <dt>Reranker</dt>
              <dd>
                {trace.rerank.status}
                {trace.rerank.status !== 'disabled' && ` (window ${trace.rerank.window})`}
                {trace.rerank.error && `: ${trace.rerank.error}`}
              </dd>
            </div>
            <div>
              <dt>Time range</dt>
              <dd>
                {trace.temporal_range ? (
                  <>
                    {formatDateTime(trace.temporal_range.start)} – {formatDateTime(trace.temporal_range.end)}
                    {trace.temporal_range.expressions.length > 0 && (
                      <> (from &ldquo;{trace.temporal_range.expressions.join('”, “')}&rdquo;)</>
                    )}
                  </>
                ) : (
                  'none: the query names no time'
                )}
              </dd>
            </div>
          </dl>
          <h3 id={`${ids}-timing`}>Timing per stage</h3>
          <p className="muted">
            The four arms run one after another on one database connection; the total also covers reading the candidates, fusion and the
            token budget.
          </p>
          <TimingBars label="Timing per stage" stages={timingStages(trace)} />
        </section>
      )}

      {submitted && (
        <section className="panel">
          <h2 id={`${ids}-results`}>Results</h2>
          {submitted.rows.length === 0 ? (
            <p>No memory matched.</p>
          ) : (
            <div className="table-scroll" role="region" aria-labelledby={`${ids}-results`} tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col" className="num">
                      #
                    </th>
                    <th scope="col">Memory</th>
                    <th scope="col">Type</th>
                    <th scope="col" className="num">
                      Final
                    </th>
                    <th scope="col" className="num">
                      Fused
                    </th>
                    {ARM_NAMES.map((arm) => (
                      <th scope="col" className="num" key={arm}>
                        {arm[0].toUpperCase() + arm.slice(1)}
                        <span className="visually-hidden"> rank and score</span>
                      </th>
                    ))}
                    <th scope="col" className="num">
                      Reranker
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {submitted.rows.map((row, index) => (
                    <tr key={row.id}>
                      <td>{index + 1}</td>
                      <td className="text">
                        <a href={bankHref(bankId, `/memories/${encodeURIComponent(row.id)}`)}>{row.text}</a>
                      </td>
                      <td>{row.type}</td>
                      <td className="num">{formatScore(row.final)}</td>
                      <td className="num">{formatScore(row.fused)}</td>
                      {ARM_NAMES.map((arm) => {
                        const hit = row.arms[arm];
                        return (
                          <td className="num" key={arm}>
                            {hit ? (
                              <>
                                <span className="play-rank">#{hit.rank}</span> {formatScore(hit.score)}
                              </>
                            ) : (
                              <>
                                <span aria-hidden="true">–</span>
                                <span className="visually-hidden">not found</span>
                              </>
                            )}
                          </td>
                        );
                      })}
                      <td className="num">{formatScore(row.reranker)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </div>
  );
}

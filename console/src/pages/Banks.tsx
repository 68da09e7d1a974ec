import { type FormEvent, useEffect, useId, useState } from 'react';
import { apiFetch, bankPath } from '../api';
import { bankHref } from '../components/BankLayout';
import { DataTable } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import { useSubmission } from '../useSubmission';
import type { BankStats, BankSummary, Page } from '../wire';

interface BankCounts {
  documents: number;
  entities: number;
  observations: number;
  pending: number;
  failed: number;
}

/** The list route carries no per-bank counts; stats and an empty entity page fill them in. */
async function countsOf(bankId: string, signal: AbortSignal): Promise<BankCounts> {
  const [stats, entities] = await Promise.all([
    apiFetch<BankStats>(bankPath(bankId, '/stats'), { signal }),
    apiFetch<Page<unknown>>(bankPath(bankId, '/entities'), { query: { limit: 0 }, signal }),
  ]);
  return {
    documents: stats.total_documents,
    entities: entities.total,
    observations: stats.total_observations ?? stats.nodes_by_fact_type.observation ?? 0,
    pending: stats.pending_operations,
    failed: stats.failed_operations,
  };
}

/** At most this many banks get their counts fetched, so a server with thousands stays quick. */
const COUNTED_BANKS = 50;

function useBankCounts(banks: BankSummary[] | undefined): Map<string, BankCounts> {
  const [counts, setCounts] = useState(new Map<string, BankCounts>());
  const ids = (banks ?? []).slice(0, COUNTED_BANKS).map((bank) => bank.bank_id);
  const idsKey = JSON.stringify(ids);
  useEffect(() => {
    const controller = new AbortController();
    for (const bankId of JSON.parse(idsKey) as string[]) {
      countsOf(bankId, controller.signal).then(
        (value) => setCounts((previous) => new Map(previous).set(bankId, value)),
        () => undefined,
      );
    }
    return () => controller.abort();
  }, [idsKey]);
  return counts;
}

function Count({ value }: { value: number | undefined }) {
  return value === undefined ? <span className="muted">…</span> : <>{value}</>;
}

function CreateBankForm({ onCreated }: { onCreated: (bankId: string) => void }) {
  const id = useId();
  const [bankId, setBankId] = useState('');
  const { busy, error, run } = useSubmission();

  async function create(event: FormEvent) {
    event.preventDefault();
    const wanted = bankId.trim();
    await run(async () => {
      // PUT creates the bank with defaults, or leaves an existing one as it is.
      await apiFetch(bankPath(wanted), { method: 'PUT', body: {} });
      setBankId('');
      onCreated(wanted);
    });
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New bank</h2>
      <form className="inline-form" onSubmit={(event) => void create(event)}>
        <div className="field">
          <label htmlFor={`${id}-bank`}>Bank ID</label>
          <input id={`${id}-bank`} required value={bankId} onChange={(event) => setBankId(event.target.value)} autoComplete="off" />
        </div>
        <button type="submit" disabled={busy}>
          Create bank
        </button>
      </form>
      <ErrorNotice error={error} title="Could not create the bank" />
    </section>
  );
}

export default function Banks() {
  const banks = useApi<{ banks: BankSummary[] }>('/v1/default/banks');
  const counts = useBankCounts(banks.data?.banks);
  const [created, setCreated] = useState<string>();
  const rows = banks.data?.banks ?? [];

  return (
    <section>
      <h1>Banks</h1>
      <p className="muted">Each bank is one agent&apos;s memory. Open one to see what it remembers.</p>
      <CreateBankForm
        onCreated={(bankId) => {
          setCreated(bankId);
          banks.reload();
        }}
      />
      {created && (
        <p className="success-notice" role="status">
          Bank <a href={bankHref(created)}>{created}</a> is ready.
        </p>
      )}
      <ErrorNotice error={banks.error} title="Could not list the banks" />
      {banks.loading && !banks.data ? (
        <Loading />
      ) : (
        <DataTable
          caption="Banks"
          rows={rows}
          rowKey={(bank) => bank.bank_id}
          empty="No banks yet: create one above, or retain into one through the API."
          columns={[
            { header: 'Bank ID', cell: (bank) => <a href={bankHref(bank.bank_id)}>{bank.bank_id}</a> },
            { header: 'Name', cell: (bank) => (bank.name && bank.name !== bank.bank_id ? bank.name : <span className="muted">—</span>) },
            { header: 'Memories', kind: 'num', cell: (bank) => bank.fact_count ?? 0 },
            { header: 'Documents', kind: 'num', cell: (bank) => <Count value={counts.get(bank.bank_id)?.documents} /> },
            { header: 'Entities', kind: 'num', cell: (bank) => <Count value={counts.get(bank.bank_id)?.entities} /> },
            { header: 'Observations', kind: 'num', cell: (bank) => <Count value={counts.get(bank.bank_id)?.observations} /> },
            {
              header: 'Operations',
              cell: (bank) => {
                const bankCounts = counts.get(bank.bank_id);
                if (!bankCounts) return <span className="muted">…</span>;
                if (!bankCounts.pending && !bankCounts.failed) return <span className="muted">none open</span>;
                return `${bankCounts.pending} pending, ${bankCounts.failed} failed`;
              },
            },
            { header: 'Last write', cell: (bank) => <TimeText value={bank.last_write_at} /> },
          ]}
        />
      )}
    </section>
  );
}

import { bankPath } from '../api';
import { useApi } from '../useApi';
import type { BankStats } from '../wire';
import { TimeText } from './TimeText';

/** The bank at a glance above its tabs: what it holds and whether work is waiting or failing. */
export function BankStatsStrip({ bankId }: { bankId: string }) {
  const stats = useApi<BankStats>(bankPath(bankId, '/stats'));
  const data = stats.data?.bank_id === bankId ? stats.data : undefined;
  if (!data) return null;
  const byType = data.nodes_by_fact_type;
  const figures: [string, number][] = [
    ['World facts', byType.world ?? 0],
    ['Experiences', byType.experience ?? 0],
    ['Observations', data.total_observations ?? byType.observation ?? 0],
    ['Documents', data.total_documents],
    ['Pending operations', data.pending_operations],
    ['Failed operations', data.failed_operations],
  ];
  return (
    <section aria-label="Bank statistics">
      <ul className="stats-grid">
        {figures.map(([label, value]) => (
          <li key={label}>
            <span className="value">{value}</span>
            <span className="muted">{label}</span>
          </li>
        ))}
      </ul>
      <p className="muted stats-note">
        Last consolidated <TimeText value={data.last_consolidated_at} empty="never" />
        {data.pending_consolidation ? `, ${data.pending_consolidation} memories waiting` : ''}
        {data.failed_consolidation ? `, ${data.failed_consolidation} failed` : ''}.
      </p>
    </section>
  );
}

import { bankPath } from '../api';
import { useApi } from '../useApi';
import type { BankStats } from '../wire';

/**
 * "console-open (2 memories)": the bank a form acts on, with how much it holds. Read when the page
 * opens, which also brings up the API-key form before anything is typed on a page whose own calls
 * only happen on submit (recall, reflect), rather than after a submit whose query would be lost.
 */
export function BankSize({ bankId }: { bankId: string }) {
  const stats = useApi<BankStats>(bankPath(bankId, '/stats'));
  const held = stats.data?.bank_id === bankId ? stats.data.total_nodes : undefined;
  return (
    <>
      <strong>{bankId}</strong>
      {held !== undefined && ` (${held} ${held === 1 ? 'memory' : 'memories'})`}
    </>
  );
}

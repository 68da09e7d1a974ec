import { useId, useState } from 'react';
import { apiFetch, bankPath } from '../../api';
import { ErrorAlert } from './Notice';
import { formatDateTime } from './format';
import { useLoad } from './useLoad';
import type { WebhookDeliveryListWire, WebhookDeliveryWire, WebhookWire } from './wire';

const PAGE_SIZE = 20;

function DeliveriesOfWebhook({ bankId, webhook }: { bankId: string; webhook: WebhookWire }) {
  const ids = useId();
  const path = bankPath(bankId, `/webhooks/${encodeURIComponent(webhook.id)}/deliveries`);
  const first = useLoad(`${bankId}\n${webhook.id}`, (signal) =>
    apiFetch<WebhookDeliveryListWire>(path, { query: { limit: PAGE_SIZE }, signal }),
  );
  // Older pages, appended by "Load older"; cleared when the first page reloads.
  const [older, setOlder] = useState<{ items: WebhookDeliveryWire[]; cursor: string | null; after: unknown }>();
  const [olderError, setOlderError] = useState<unknown>();
  const olderPages = older?.after === first.data ? older : undefined;
  const items = [...(first.data?.items ?? []), ...(olderPages?.items ?? [])];
  const cursor = olderPages ? olderPages.cursor : first.data?.next_cursor;

  async function loadOlder() {
    if (!cursor) return;
    setOlderError(undefined);
    try {
      const page = await apiFetch<WebhookDeliveryListWire>(path, { query: { limit: PAGE_SIZE, cursor } });
      setOlder({ items: [...(olderPages?.items ?? []), ...page.items], cursor: page.next_cursor, after: first.data });
    } catch (caught) {
      setOlderError(caught);
    }
  }

  return (
    <section className="play-subsection">
      <h3 id={`${ids}-title`} className="play-break">
        {webhook.url}
      </h3>
      <p className="muted">
        {webhook.enabled ? 'Enabled' : 'Disabled'}; events: {webhook.event_types.join(', ') || 'none'}.{' '}
        <button type="button" className="link-button" onClick={first.reload}>
          Refresh deliveries
        </button>
      </p>
      <ErrorAlert error={first.error} title="Could not load the deliveries" />
      {first.loading && !first.data && <p role="status">Loading deliveries…</p>}
      {first.data &&
        (items.length === 0 ? (
          <p>No deliveries yet.</p>
        ) : (
          <div className="table-scroll" role="region" aria-labelledby={`${ids}-title`} tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Last error</th>
                  <th scope="col">Next attempt</th>
                  <th scope="col">Created</th>
                  <th scope="col">Delivered</th>
                </tr>
              </thead>
              <tbody>
                {items.map((delivery) => (
                  <tr key={delivery.id}>
                    <td>{delivery.event_type}</td>
                    <td>
                      <span className={`play-status play-status-${delivery.status}`}>{delivery.status}</span>
                    </td>
                    <td className="num">{delivery.attempts}</td>
                    <td className="play-error-cell">
                      {delivery.last_error ?? ''}
                      {delivery.last_response_status != null && ` (HTTP ${delivery.last_response_status})`}
                    </td>
                    <td>{formatDateTime(delivery.next_retry_at)}</td>
                    <td>{formatDateTime(delivery.created_at)}</td>
                    <td>{formatDateTime(delivery.delivered_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      <ErrorAlert error={olderError} title="Could not load older deliveries" />
      {cursor && (
        <button type="button" onClick={() => void loadOlder()}>
          Load older deliveries
        </button>
      )}
    </section>
  );
}

export function WebhookDeliveries({ bankId }: { bankId: string }) {
  const ids = useId();
  const webhooks = useLoad(bankId, (signal) =>
    apiFetch<{ items: WebhookWire[] }>(bankPath(bankId, '/webhooks'), { signal }).then((list) => list.items),
  );
  return (
    <section aria-labelledby={`${ids}-title`} className="panel">
      <h2 id={`${ids}-title`}>Webhook deliveries</h2>
      <ErrorAlert error={webhooks.error} title="Could not load the webhooks" />
      {webhooks.loading && !webhooks.data && <p role="status">Loading webhooks…</p>}
      {webhooks.data &&
        (webhooks.data.length === 0 ? (
          <p>This bank has no webhooks.</p>
        ) : (
          webhooks.data.map((webhook) => <DeliveriesOfWebhook key={webhook.id} bankId={bankId} webhook={webhook} />)
        ))}
    </section>
  );
}

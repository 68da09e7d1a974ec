import { bankPath } from '../api';
import { DataTable } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { Tags } from '../components/Tags';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { MentalModel } from '../wire';

export default function MentalModels({ bankId }: { bankId: string }) {
  const models = useApi<{ items: MentalModel[] }>(bankPath(bankId, '/mental-models'));
  const items = models.data?.items;
  return (
    <section>
      <h2>Mental models</h2>
      <p className="muted">Standing answers the bank keeps up to date by reflecting on its query.</p>
      <ErrorNotice error={models.error} title="Could not list the mental models" />
      {!items ? (
        models.loading && <Loading />
      ) : (
        <DataTable
          caption="Mental models"
          rows={items}
          rowKey={(model) => model.id}
          empty="No mental models: create one through the API (POST …/mental-models)."
          columns={[
            { header: 'Name', cell: (model) => <strong>{model.name}</strong> },
            { header: 'Query', kind: 'text', cell: (model) => model.source_query ?? <span className="muted">—</span> },
            {
              header: 'Content',
              kind: 'text',
              cell: (model) =>
                !model.content ? (
                  <span className="muted">Not built yet</span>
                ) : model.content.length <= 120 ? (
                  model.content
                ) : (
                  <details>
                    <summary>{`${model.content.slice(0, 120)}…`}</summary>
                    <p className="document-text">{model.content}</p>
                  </details>
                ),
            },
            { header: 'Tags', cell: (model) => <Tags tags={model.tags} /> },
            { header: 'Refreshed', cell: (model) => <TimeText value={model.last_refreshed_at} empty="never" /> },
          ]}
        />
      )}
    </section>
  );
}

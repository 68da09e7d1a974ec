import type { ReactNode } from 'react';

export interface Column<Row> {
  header: string;
  cell: (row: Row) => ReactNode;
  /** `num` right-aligns figures; `text` lets long memory text wrap at a readable width. */
  kind?: 'num' | 'text';
}

interface DataTableProps<Row> {
  /** The table's accessible name; also labels the scroll region phones swipe through. */
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row) => string;
  empty?: ReactNode;
}

export function DataTable<Row>({ caption, columns, rows, rowKey, empty = 'Nothing here yet.' }: DataTableProps<Row>) {
  if (rows.length === 0) return <p className="muted empty">{empty}</p>;
  return (
    // A focusable region so keyboard users can scroll a table wider than a phone screen.
    <div className="table-scroll" role="region" aria-label={caption} tabIndex={0}>
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={column.kind}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => (
                <td key={column.header} className={column.kind}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface PagerProps {
  offset: number;
  limit: number;
  /** Rows on this page. */
  count: number;
  /** Rows in all, when the route says; without it Next stays on while a page comes back full. */
  total?: number;
  onChange: (offset: number) => void;
  label?: string;
}

export function Pager({ offset, limit, count, total, onChange, label = 'Pages' }: PagerProps) {
  const hasNext = total === undefined ? count >= limit : offset + count < total;
  const first = count === 0 ? 0 : offset + 1;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" onClick={() => onChange(Math.max(0, offset - limit))} disabled={offset === 0}>
        Previous
      </button>
      <span aria-live="polite">
        {first}–{offset + count}
        {total !== undefined && ` of ${total}`}
      </span>
      <button type="button" onClick={() => onChange(offset + limit)} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}

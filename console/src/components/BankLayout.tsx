import type { ReactNode } from 'react';
import { BankStatsStrip } from './BankStatsStrip';

export type BankTab =
  'memories' | 'documents' | 'entities' | 'observations' | 'mental-models' | 'recall' | 'reflect' | 'graph' | 'operations';

const TABS: { tab: BankTab; label: string }[] = [
  { tab: 'memories', label: 'Memories' },
  { tab: 'documents', label: 'Documents' },
  { tab: 'entities', label: 'Entities' },
  { tab: 'observations', label: 'Observations' },
  { tab: 'mental-models', label: 'Mental models' },
  { tab: 'recall', label: 'Recall' },
  { tab: 'reflect', label: 'Reflect' },
  { tab: 'graph', label: 'Graph' },
  { tab: 'operations', label: 'Operations' },
];

export function bankHref(bankId: string, rest = ''): string {
  return `#/banks/${encodeURIComponent(bankId)}${rest}`;
}

interface BankLayoutProps {
  bankId: string;
  tab: BankTab;
  /** The page names itself in its own h1 (a detail page, a playground); the bank id then stays a crumb. */
  ownHeading?: boolean;
  children: ReactNode;
}

export function BankLayout({ bankId, tab, ownHeading = false, children }: BankLayoutProps) {
  return (
    <div className="bank">
      <nav aria-label="Breadcrumb" className="crumbs">
        <a href="#/banks">Banks</a>
        <span aria-hidden="true"> / </span>
        {ownHeading ? <a href={bankHref(bankId)}>{bankId}</a> : <span aria-current="page">{bankId}</span>}
      </nav>
      {!ownHeading && (
        <>
          <h1 className="bank-title">{bankId}</h1>
          <BankStatsStrip bankId={bankId} />
        </>
      )}
      <nav aria-label="Bank" className="tabs">
        {TABS.map(({ tab: each, label }) => (
          <a key={each} href={bankHref(bankId, `/${each}`)} aria-current={each === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <div className="bank-body">{children}</div>
    </div>
  );
}

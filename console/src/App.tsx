import { type MouseEvent, useCallback, useEffect, useState } from 'react';
import { Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import { apiFetch, onUnauthorized, storeApiKey, storedApiKey } from './api';
import { ApiKeyForm } from './components/ApiKeyForm';
import { BankLayout, type BankTab } from './components/BankLayout';
import Banks from './pages/Banks';
import DocumentDetail from './pages/DocumentDetail';
import Documents from './pages/Documents';
import Entities from './pages/Entities';
import EntityDetail from './pages/EntityDetail';
import EntityGraph from './pages/EntityGraph';
import MemoryDetail from './pages/MemoryDetail';
import Memories from './pages/Memories';
import MentalModels from './pages/MentalModels';
import Observations from './pages/Observations';
import Operations from './pages/Operations';
import RecallPlayground from './pages/RecallPlayground';
import ReflectPlayground from './pages/ReflectPlayground';

type KeyPrompt = 'hidden' | 'needed' | 'invalid';

/**
 * A followed link unmounts itself with the page it was on, which would drop keyboard focus to the
 * top of the document; the new page's main region takes it instead, as a page load would.
 */
function FocusOnNavigate() {
  const [location] = useLocation();
  const [previous, setPrevious] = useState(location);
  useEffect(() => {
    if (location === previous) return;
    setPrevious(location);
    document.getElementById('main')?.focus();
  }, [location, previous]);
  return null;
}

/** Hash params arrive decodeURI'd; ids may hold `/`, `?` or `#`, which only decodeURIComponent restores. */
function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function BankTabRoute({ bankId, tab }: { bankId: string; tab: BankTab }) {
  switch (tab) {
    case 'memories':
      return <Memories bankId={bankId} />;
    case 'documents':
      return <Documents bankId={bankId} />;
    case 'entities':
      return <Entities bankId={bankId} />;
    case 'observations':
      return <Observations bankId={bankId} />;
    case 'mental-models':
      return <MentalModels bankId={bankId} />;
    case 'recall':
      return <RecallPlayground bankId={bankId} />;
    case 'reflect':
      return <ReflectPlayground bankId={bankId} />;
    case 'graph':
      return <EntityGraph bankId={bankId} />;
    case 'operations':
      return <Operations bankId={bankId} />;
  }
}

const TABS_WITH_OWN_HEADING = new Set<BankTab>(['recall', 'reflect', 'graph', 'operations']);
const KNOWN_TABS = new Set<string>([
  'memories',
  'documents',
  'entities',
  'observations',
  'mental-models',
  'recall',
  'reflect',
  'graph',
  'operations',
]);

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page here. <a href="#/banks">Go to the banks</a>.
      </p>
    </section>
  );
}

export default function App() {
  const [keyPrompt, setKeyPrompt] = useState<KeyPrompt>('hidden');
  // Bumped when a key is accepted, so every page mounts again and fetches with it.
  const [session, setSession] = useState(0);
  const [hasKey, setHasKey] = useState(() => storedApiKey() !== null);

  useEffect(() => onUnauthorized(() => setKeyPrompt(storedApiKey() ? 'invalid' : 'needed')), []);

  const useKey = useCallback((key: string) => {
    storeApiKey(key);
    setHasKey(true);
    // A cheap guarded call tells a good key from a bad one; a 401 re-opens the form as invalid.
    apiFetch('/v1/default/banks').then(
      () => {
        setKeyPrompt('hidden');
        setSession((value) => value + 1);
      },
      () => undefined,
    );
  }, []);

  const forgetKey = useCallback(() => {
    storeApiKey(null);
    setHasKey(false);
    setSession((value) => value + 1);
  }, []);

  return (
    <Router hook={useHashLocation}>
      <FocusOnNavigate />
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header className="app-header">
        <a className="brand" href="#/banks">
          Memory console
        </a>
        <nav aria-label="Main">
          <a href="#/banks">Banks</a>
        </nav>
        {hasKey && (
          <button type="button" className="link-button" onClick={forgetKey}>
            Forget API key
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {keyPrompt !== 'hidden' ? (
          <ApiKeyForm invalid={keyPrompt === 'invalid'} onSubmit={useKey} />
        ) : (
          <Switch key={session}>
            <Route path="/">
              <Redirect to="/banks" replace />
            </Route>
            <Route path="/banks">
              <Banks />
            </Route>
            <Route path="/banks/:bankId/memories/:memoryId">
              {(params) => (
                <BankLayout bankId={decodeParam(params.bankId)} tab="memories" ownHeading>
                  <MemoryDetail bankId={decodeParam(params.bankId)} memoryId={decodeParam(params.memoryId)} />
                </BankLayout>
              )}
            </Route>
            <Route path="/banks/:bankId/documents/:documentId">
              {(params) => (
                <BankLayout bankId={decodeParam(params.bankId)} tab="documents" ownHeading>
                  <DocumentDetail bankId={decodeParam(params.bankId)} documentId={decodeParam(params.documentId)} />
                </BankLayout>
              )}
            </Route>
            <Route path="/banks/:bankId/entities/:entityId">
              {(params) => (
                <BankLayout bankId={decodeParam(params.bankId)} tab="entities" ownHeading>
                  <EntityDetail bankId={decodeParam(params.bankId)} entityId={decodeParam(params.entityId)} />
                </BankLayout>
              )}
            </Route>
            <Route path="/banks/:bankId/:tab?">
              {(params) => {
                const tab = (params.tab ?? 'memories') as BankTab;
                if (!KNOWN_TABS.has(tab)) return <NotFound />;
                const bankId = decodeParam(params.bankId);
                return (
                  <BankLayout bankId={bankId} tab={tab} ownHeading={TABS_WITH_OWN_HEADING.has(tab)}>
                    <BankTabRoute bankId={bankId} tab={tab} />
                  </BankLayout>
                );
              }}
            </Route>
            <Route>
              <NotFound />
            </Route>
          </Switch>
        )}
      </main>
    </Router>
  );
}

/** The skip link's own href would be read as a route by the hash router; move focus instead. */
function skipToMain(event: MouseEvent) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

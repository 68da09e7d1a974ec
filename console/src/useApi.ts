import { useCallback, useEffect, useState } from 'react';
import { apiFetch, type QueryValue } from './api';

export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

interface Settled<T> {
  request: string;
  data?: T;
  error?: Error;
}

/**
 * GETs `path` whenever it or `query` changes, aborting the request it replaces. What was answered
 * is kept with the request it answered, so a page never shows the previous filter's rows as if
 * they were the new one's; `data` stays until the new answer arrives to spare the layout a jump.
 */
export function useApi<T>(path: string | null, query?: Record<string, QueryValue>): ApiState<T> {
  const [generation, setGeneration] = useState(0);
  const queryKey = JSON.stringify(query ?? {});
  const request = path === null ? '' : `${generation} ${path} ${queryKey}`;
  const [settled, setSettled] = useState<Settled<T>>({ request: '' });

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    apiFetch<T>(path, { query: JSON.parse(queryKey) as Record<string, QueryValue>, signal: controller.signal }).then(
      (data) => setSettled({ request, data }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setSettled((previous) => ({ request, data: previous.data, error: error instanceof Error ? error : new Error(String(error)) }));
      },
    );
    return () => controller.abort();
  }, [path, queryKey, request]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const current = settled.request === request;
  return {
    data: settled.data,
    error: current ? settled.error : undefined,
    loading: path !== null && !current,
    reload,
  };
}

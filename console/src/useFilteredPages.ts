import { useCallback, useState } from 'react';

/**
 * A list's filter and the offset of the page shown. A new filter goes back to the first page: the
 * page the reader was on may not exist in the narrower list.
 */
export function useFilteredPages<Filter>(initial: Filter): {
  filter: Filter;
  setFilter: (next: Filter | ((previous: Filter) => Filter)) => void;
  offset: number;
  setOffset: (offset: number) => void;
} {
  const [filter, setFilterState] = useState<Filter>(initial);
  const [offset, setOffset] = useState(0);
  const setFilter = useCallback((next: Filter | ((previous: Filter) => Filter)) => {
    setFilterState(next);
    setOffset(0);
  }, []);
  return { filter, setFilter, offset, setOffset };
}

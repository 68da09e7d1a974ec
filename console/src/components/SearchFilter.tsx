import { useId } from 'react';

/**
 * A list's one-field search form: typing filters as you go (no submit), and sends the list back to
 * its first page, since the page the reader was on may not exist in the narrower list.
 */
export function SearchFilter({
  what,
  label,
  value,
  onChange,
}: {
  /** The list's name, for the form's accessible name ("Filter documents"). */
  what: string;
  label: string;
  value: string;
  /** Called with the new text; the caller also resets its paging. */
  onChange: (value: string) => void;
}) {
  const id = useId();
  return (
    <form className="filters" role="search" aria-label={`Filter ${what}`} onSubmit={(event) => event.preventDefault()}>
      <div className="field">
        <label htmlFor={`${id}-q`}>{label}</label>
        <input id={`${id}-q`} type="search" value={value} onChange={(event) => onChange(event.target.value)} />
      </div>
    </form>
  );
}

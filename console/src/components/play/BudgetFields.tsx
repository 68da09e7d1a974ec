import { BUDGETS, type Budget } from './wire';

/**
 * The budget and token-limit fields recall and reflect share. `idPrefix` keeps the labels tied to
 * their own inputs when both pages' forms are built from the same parts.
 */
export function BudgetFields({
  idPrefix,
  budget,
  onBudget,
  maxTokens,
  onMaxTokens,
  minTokens,
}: {
  idPrefix: string;
  budget: Budget;
  onBudget: (budget: Budget) => void;
  /** As typed: empty means the server's default. */
  maxTokens: string;
  onMaxTokens: (maxTokens: string) => void;
  /** Recall takes 0 (no memories, only entities); reflect needs at least 1. */
  minTokens: 0 | 1;
}) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-budget`}>Budget</label>
        <select id={`${idPrefix}-budget`} value={budget} onChange={(event) => onBudget(event.target.value as Budget)}>
          {BUDGETS.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-max-tokens`}>Max tokens</label>
        <input
          id={`${idPrefix}-max-tokens`}
          type="number"
          min={minTokens}
          step={1}
          inputMode="numeric"
          placeholder="4096"
          value={maxTokens}
          onChange={(event) => onMaxTokens(event.target.value)}
        />
      </div>
    </>
  );
}

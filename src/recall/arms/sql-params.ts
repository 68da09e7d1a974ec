/** Numbers bound parameters as a statement is assembled, so fragments can be composed safely. */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Binds `value` and returns its placeholder (`$1`, `$2`...). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

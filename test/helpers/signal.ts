/** A promise and the function that resolves it: a signal to wait on instead of a sleep. */
export function signal(): { fired: Promise<void>; fire(): void } {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fired, fire };
}

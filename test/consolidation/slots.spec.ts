import { Slots } from '../../src/consolidation/slots.js';

/** Lets every promise callback already queued run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Slots', () => {
  it('admits `size` holders, then hands each freed slot to the longest waiter', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const hold = (name: string) =>
      slots.run(async () => {
        order.push(name);
        await new Promise<void>((resolve) => gates.set(name, resolve));
      });

    const runs = ['a', 'b', 'c', 'd'].map(hold);
    await settled();
    expect(order).toEqual(['a', 'b']);
    gates.get('b')!();
    await settled();
    expect(order).toEqual(['a', 'b', 'c']);
    // A newcomer queues behind the waiter, even at the moment a slot is freed.
    gates.get('a')!();
    const late = hold('e');
    await settled();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    gates.get('c')!();
    await settled();
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    gates.get('e')!();
    await late;
    gates.get('d')!();
    await runs[3];
  });

  it('ends a wait whose signal aborts, without taking or losing a slot', async () => {
    const slots = new Slots(1);
    let release!: () => void;
    const holder = slots.run(() => new Promise<void>((resolve) => (release = resolve)));
    const abort = new AbortController();
    const waiter = slots.run(async () => 'ran', abort.signal);
    abort.abort(new Error('stopping'));
    await expect(waiter).rejects.toThrow('stopping');
    release();
    await holder;
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
    await expect(slots.run(async () => 'ran', AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});

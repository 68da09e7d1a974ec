import { jest } from '@jest/globals';
import { WakeableSleep } from '../../src/lifecycle/wakeable-sleep.js';

describe('WakeableSleep', () => {
  it('ends every sleep in progress on wake(), and only those', async () => {
    const stop = new AbortController();
    const pause = new WakeableSleep(stop.signal);
    const ended: string[] = [];
    const first = pause.sleep(60_000).then(() => ended.push('first'));
    const second = pause.sleep(60_000).then(() => ended.push('second'));
    expect(pause.sleeping).toBe(2);
    pause.wake();
    await Promise.all([first, second]);
    expect(ended.sort()).toEqual(['first', 'second']);
    expect(pause.sleeping).toBe(0);
  });

  it('does not save a wake with nobody asleep for the next sleeper', async () => {
    jest.useFakeTimers();
    try {
      const pause = new WakeableSleep(new AbortController().signal);
      pause.wake();
      let ended = false;
      const sleeping = pause.sleep(30).then(() => (ended = true));
      await jest.advanceTimersByTimeAsync(29);
      expect(ended).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await sleeping;
      expect(ended).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps no trace of sleeps that ended by their timer, however many loops overlap', async () => {
    const pause = new WakeableSleep(new AbortController().signal);
    // Loops whose pauses overlap and end by the clock, as polling loops do all day.
    for (let round = 0; round < 50; round += 1) await Promise.all([pause.sleep(1), pause.sleep(2), pause.sleep(3)]);
    expect(pause.sleeping).toBe(0);
  });

  it('ends sleeps when stopped, and does not start new ones after', async () => {
    const stop = new AbortController();
    const pause = new WakeableSleep(stop.signal);
    const sleeping = pause.sleep(60_000);
    stop.abort();
    await sleeping;
    expect(pause.sleeping).toBe(0);
    await pause.sleep(60_000);
    expect(pause.sleeping).toBe(0);
  });
});

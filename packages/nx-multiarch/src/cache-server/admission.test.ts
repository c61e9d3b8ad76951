import { Admission } from './admission';

describe('Admission', () => {
  it('runs up to maxActive, queues up to maxQueued in order, refuses beyond, and hands a freed slot to the next in line', async () => {
    const admission = new Admission({ maxActive: 2, maxQueued: 1, retryAfterSeconds: 1 });
    const a = await admission.enter();
    const b = await admission.enter();
    expect(typeof a).toBe('function');
    expect(typeof b).toBe('function');
    let cGot = false;
    const c = admission.enter().then((r) => {
      cGot = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(cGot).toBe(false);
    expect(await admission.enter()).toEqual({ reason: 'busy', detail: '2 requests running and 1 waiting' });
    (a as () => void)();
    const cRelease = await c;
    expect(typeof cRelease).toBe('function');
    expect(admission.inFlight).toEqual({ active: 2, waiting: 0 });
    (b as () => void)();
    (cRelease as () => void)();
    // Releasing twice frees one slot only.
    (cRelease as () => void)();
    expect(admission.inFlight).toEqual({ active: 0, waiting: 0 });
    expect(admission.refused).toBe(1);
  });

  it('refuses every new request while memory is over the cap, and admits again once it is under', async () => {
    let rss = 900;
    const admission = new Admission({ maxActive: 10, maxQueued: 10, maxMemoryBytes: 500, retryAfterSeconds: 1 }, () => rss);
    expect(await admission.enter()).toEqual({ reason: 'memory', detail: 'memory 900 bytes over the cap of 500' });
    rss = 400;
    expect(typeof (await admission.enter())).toBe('function');
  });
});

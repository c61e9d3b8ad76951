import { keepInUse, selectForRemoval } from './retention';

/** The one choice both stores make: too old first, then least recently used until the rest fit. */
const HOUR = 3_600_000;
const NOW = 100 * HOUR;
const entries = [
  { key: 'a', lastUsed: NOW - 1 * HOUR, size: 10 },
  { key: 'b', lastUsed: NOW - 5 * HOUR, size: 20 },
  { key: 'c', lastUsed: NOW - 3 * HOUR, size: 30 },
  { key: 'd', lastUsed: NOW - 3 * HOUR, size: 40 },
];
const none = () => false;

describe('selectForRemoval', () => {
  it('removes entries unused for longer than the age limit', () => {
    expect(selectForRemoval(entries, { maxAgeMs: 4 * HOUR }, NOW, none)).toEqual({ examined: 4, removed: ['b'], freedBytes: 20, keptBytes: 80, skippedInUse: [] });
  });

  it('then the least recently used (ties by key) until the rest fit', () => {
    expect(selectForRemoval(entries, { maxTotalBytes: 45 }, NOW, none)).toMatchObject({ removed: ['b', 'c', 'd'], freedBytes: 90, keptBytes: 10 });
    expect(selectForRemoval(entries, { maxAgeMs: 4 * HOUR, maxTotalBytes: 100 }, NOW, none).removed).toEqual(['b']);
  });

  it('never chooses an entry in use, and takes the next one instead', () => {
    const result = selectForRemoval(entries, { maxTotalBytes: 60 }, NOW, (key) => key === 'b');
    expect(result).toMatchObject({ removed: ['c', 'd'], skippedInUse: ['b'], keptBytes: 30 });
  });

  it('moves an entry found in use at the last moment back to the kept ones', () => {
    const result = selectForRemoval(entries, { maxTotalBytes: 0 }, NOW, none);
    keepInUse(result, 'c', 30);
    expect(result).toMatchObject({ removed: ['b', 'd', 'a'], skippedInUse: ['c'], freedBytes: 70, keptBytes: 30 });
  });
});

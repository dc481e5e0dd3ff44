// Timings from settings.js: positive numbers replace the defaults, caps hold, anything else is ignored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeSettings, timingsFrom } from '../../src/lib/common/settings-timings';

describe('timingsFrom', () => {
  const defaults = { statusIntervalMs: 1000, closeMaxMs: 10000 };
  it('takes positive numbers (also as strings), caps, and ignores the rest', () => {
    assert.deepEqual(timingsFrom({ statusIntervalMs: '200', closeMaxMs: 60000, other: 5 }, defaults, { closeMaxMs: 12000 }), { statusIntervalMs: 200, closeMaxMs: 12000 });
    assert.deepEqual(timingsFrom({ statusIntervalMs: -1, closeMaxMs: 'soon' }, defaults), defaults);
    assert.deepEqual(timingsFrom({ statusIntervalMs: 0, closeMaxMs: null }, defaults), defaults);
    assert.deepEqual(timingsFrom(undefined, defaults), defaults);
    assert.deepEqual(timingsFrom('fast', defaults), defaults);
    assert.notEqual(timingsFrom(undefined, defaults), defaults, 'a copy');
  });
  it('reads a key of the settings, also from an object that throws for unknown keys', () => {
    assert.deepEqual(nodeSettings({ a: { x: 1 } }, 'a'), { x: 1 });
    const throwing = new Proxy({}, { get: () => { throw new Error('not set'); } });
    assert.equal(nodeSettings(throwing, 'a'), undefined);
  });
});

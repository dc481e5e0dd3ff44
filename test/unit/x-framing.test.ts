// X's stream framing: "\r\n"-ended JSON records and bare "\r\n" keep-alives, split anywhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineFramer, type FrameEvent } from '../../src/lib/x/framing';

function feed(framer: LineFramer, chunks: Buffer[]): FrameEvent[] {
  const out: FrameEvent[] = [];
  for (const c of chunks) framer.push(c, (e) => void out.push(e));
  return out;
}

const records = [
  { data: { id: '1', text: 'hello' } },
  { data: { id: '2', text: 'カフカ 🛰️ ünïcödé' }, includes: { users: [{ id: '9', username: 'a' }] }, matching_rules: [{ id: '5', tag: 't' }] },
  { errors: [{ title: 'operational-disconnect', disconnect_type: 'OperationalDisconnect' }] },
];
const wire = Buffer.from(`${JSON.stringify(records[0])}\r\n\r\n${JSON.stringify(records[1])}\r\n\r\n\r\n${JSON.stringify(records[2])}\r\n`, 'utf8');
const expected = ['record', 'keep-alive', 'record', 'keep-alive', 'keep-alive', 'record'];

function kinds(events: FrameEvent[]): string[] {
  return events.map((e) => e.kind);
}
function values(events: FrameEvent[]): unknown[] {
  return events.filter((e) => e.kind === 'record').map((e) => (e as { value: unknown }).value);
}

describe('LineFramer', () => {
  it('reads records and keep-alives from one chunk', () => {
    const ev = feed(new LineFramer(), [wire]);
    assert.deepEqual(kinds(ev), expected);
    assert.deepEqual(values(ev), records);
  });

  it('gives the same events for a split at every byte offset (inside UTF-8 characters and between \\r and \\n)', () => {
    for (let at = 1; at < wire.length; at++) {
      const ev = feed(new LineFramer(), [wire.subarray(0, at), wire.subarray(at)]);
      assert.deepEqual(kinds(ev), expected, `split at ${at}`);
      assert.deepEqual(values(ev), records, `split at ${at}`);
    }
  });

  it('gives the same events when every byte is its own chunk', () => {
    const chunks = [...wire].map((b) => Buffer.from([b]));
    const ev = feed(new LineFramer(), chunks);
    assert.deepEqual(kinds(ev), expected);
    assert.deepEqual(values(ev), records);
  });

  it('takes a "\\r\\n" arriving as its own chunk after a record as that record\'s end, not as a record or a keep-alive', () => {
    const rec = Buffer.from(JSON.stringify(records[0]));
    const ev = feed(new LineFramer(), [rec, Buffer.from('\r\n'), Buffer.from('\r\n')]);
    assert.deepEqual(kinds(ev), ['record', 'keep-alive']);
    assert.deepEqual(values(ev), [records[0]]);
  });

  it('survives random chunkings (1000 runs)', () => {
    let seed = 42;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const big = Buffer.concat(Array.from({ length: 20 }, () => wire));
    for (let run = 0; run < 1000; run++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < big.length; ) {
        const n = 1 + Math.floor(rnd() * 90);
        chunks.push(big.subarray(at, at + n));
        at += n;
      }
      const ev = feed(new LineFramer(), chunks);
      assert.equal(ev.length, expected.length * 20);
      assert.equal(ev.filter((e) => e.kind === 'malformed').length, 0);
    }
  });

  it('reports a malformed line and goes on with the next one', () => {
    const ev = feed(new LineFramer(), [Buffer.from('{"data":{"id":"1","text":"cut sh\r\n{"data":{"id":"2"}}\r\n')]);
    assert.deepEqual(kinds(ev), ['malformed', 'record']);
    const bad = ev[0] as Extract<FrameEvent, { kind: 'malformed' }>;
    assert.match(bad.text, /cut sh/);
    assert.ok(bad.reason.length > 0);
  });

  it('accepts "\\n" alone as a line end', () => {
    const ev = feed(new LineFramer(), [Buffer.from('{"a":1}\n\n{"b":2}\n')]);
    assert.deepEqual(kinds(ev), ['record', 'keep-alive', 'record']);
  });

  it('discards a line longer than maxLineBytes, across chunks, and keeps the memory bounded', () => {
    const framer = new LineFramer({ maxLineBytes: 100 });
    const out: FrameEvent[] = [];
    for (let i = 0; i < 50; i++) framer.push(Buffer.alloc(40, 0x61), (e) => void out.push(e));
    assert.ok(framer.buffered <= 100);
    framer.push(Buffer.from('aaa\r\n{"ok":true}\r\n'), (e) => void out.push(e));
    assert.deepEqual(kinds(out), ['malformed', 'record']);
    assert.match((out[0] as { reason: string }).reason, /longer than 100/);
  });

  it('stops when emit returns false, holds the rest (and later chunks) and goes on at resume(), losing nothing', () => {
    const framer = new LineFramer();
    const out: FrameEvent[] = [];
    let budget = 1;
    const emit = (e: FrameEvent) => {
      out.push(e);
      return --budget > 0;
    };
    const mid = Math.floor(wire.length / 2);
    framer.push(wire.subarray(0, mid), emit);
    assert.equal(out.length, 1);
    assert.ok(framer.holding);
    framer.push(wire.subarray(mid), emit); // held behind the rest
    assert.equal(out.length, 1);
    for (let i = 0; i < 10 && framer.holding; i++) {
      budget = 2;
      framer.resume(emit);
    }
    assert.equal(framer.holding, false);
    assert.deepEqual(kinds(out), expected);
    assert.deepEqual(values(out), records);
  });

  it('reset() forgets a partial line', () => {
    const framer = new LineFramer();
    framer.push(Buffer.from('{"data":{"id":"1"'), () => assert.fail('no event yet'));
    assert.ok(framer.buffered > 0);
    framer.reset();
    const ev = feed(framer, [Buffer.from('{"data":{"id":"2"}}\r\n')]);
    assert.deepEqual(values(ev), [{ data: { id: '2' } }]);
  });
});

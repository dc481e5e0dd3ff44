// The producer dialog's rules (src/lib/editor/producer.ts) are the runtime's
// (src/lib/kafka/producer/config.ts): every cross-field rule names the fields it concerns
// with a stable code the editor translates, the presets and defaults are the lib's, and
// the editor refuses exactly what producerOptionsFrom refuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULTS,
  fieldProblem,
  matchingPreset,
  OPTION_FIELDS,
  PRESET_FIELDS,
  PRESET_VALUES,
  problemsByField,
} from '../../src/lib/editor/producer';
import {
  defaultProducerOptions,
  MAX_RETRIES,
  PRESETS,
  producerOptionsFrom,
  producerProblems,
  ProducerConfigError,
  type ProducerProblemCode,
} from '../../src/lib/kafka/producer/config';

const defaults = (): Record<string, unknown> => ({ ...DEFAULTS, preset: 'safe', topic: '', metricsInterval: '0' });
const codes = (values: Record<string, unknown>, field: string) => (problemsByField(values)[field as 'acks'] ?? []).map((p) => p.code);
const en = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../locales/en-US/streamsafe-kafka-producer.json'), 'utf8'))['streamsafe-kafka-producer'];
const ko = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../locales/ko/streamsafe-kafka-producer.json'), 'utf8'))['streamsafe-kafka-producer'];

describe('producer dialog rules', () => {
  it('the defaults are valid and come from the lib (Safe preset over the Java defaults)', () => {
    const d = defaultProducerOptions();
    for (const f of OPTION_FIELDS) assert.equal(DEFAULTS[f], typeof d[f] === 'boolean' ? d[f] : String(d[f]), f);
    assert.equal(DEFAULTS.retries, String(MAX_RETRIES));
    assert.equal(DEFAULTS.idempotence, true);
    assert.deepEqual(problemsByField(defaults()), {});
    for (const f of [...OPTION_FIELDS, 'preset', 'topic', 'metricsInterval']) assert.equal(fieldProblem(f, defaults()), undefined, f);
  });

  it('the presets are the lib\'s, in the dialog\'s form, each valid and recognised', () => {
    assert.deepEqual(Object.keys(PRESET_VALUES).sort(), Object.keys(PRESETS).sort());
    for (const [name, p] of Object.entries(PRESETS)) {
      for (const [f, v] of Object.entries(p)) assert.equal((PRESET_VALUES as any)[name][f], typeof v === 'boolean' ? v : String(v), `${name}.${f}`);
      // Every preset sets the same fields, and PRESET_FIELDS are those.
      assert.deepEqual(Object.keys(p).sort(), [...PRESET_FIELDS].sort(), name);
      const values = { ...defaults(), ...(PRESET_VALUES as any)[name] };
      assert.deepEqual(problemsByField(values), {}, name);
      assert.equal(matchingPreset(values), name);
    }
    assert.equal(matchingPreset({ ...defaults(), lingerMs: '7' }), 'custom');
    // A blank or missing field runs with its default: a node saved without fields is Safe.
    assert.equal(matchingPreset({}), 'safe');
    assert.equal(matchingPreset({ ...PRESET_VALUES.throughput, lingerMs: ' ' }), 'custom');
    assert.equal(matchingPreset({ ...PRESET_VALUES.safe, lingerMs: '' }), 'safe');
    assert.equal(matchingPreset({ ...defaults(), ...PRESET_VALUES.fireAndForget, idempotence: 'false' }), 'fireAndForget');
  });

  const cases: Array<{ rule: string; values: Record<string, unknown>; code: ProducerProblemCode; fields: string[]; values2?: Record<string, unknown> }> = [
    { rule: 'idempotence requires acks all (acks 1)', values: { acks: '1' }, code: 'idempotenceNeedsAcksAll', fields: ['acks', 'idempotence'] },
    { rule: 'idempotence requires acks all (acks 0)', values: { acks: '0' }, code: 'idempotenceNeedsAcksAll', fields: ['acks', 'idempotence'] },
    { rule: 'idempotence requires retries > 0', values: { retries: '0' }, code: 'idempotenceNeedsRetries', fields: ['retries', 'idempotence'] },
    { rule: 'idempotence allows max.in.flight <= 5', values: { maxInFlight: '6' }, code: 'idempotenceMaxInFlight', fields: ['maxInFlight', 'idempotence'] },
    { rule: 'retry.backoff.max >= retry.backoff', values: { retryBackoffMs: '2000', retryBackoffMaxMs: '1000' }, code: 'backoffMaxBelowBackoff', fields: ['retryBackoffMaxMs', 'retryBackoffMs'] },
    { rule: 'delivery.timeout >= linger + request.timeout', values: { deliveryTimeoutMs: '30004' }, code: 'deliveryTimeoutTooShort', fields: ['deliveryTimeoutMs', 'lingerMs', 'requestTimeoutMs'] },
    { rule: 'linger counts in the delivery timeout', values: { lingerMs: '90001' }, code: 'deliveryTimeoutTooShort', fields: ['deliveryTimeoutMs', 'lingerMs', 'requestTimeoutMs'] },
    { rule: 'retries at most MAX_INT', values: { retries: String(MAX_RETRIES + 1) }, code: 'tooLarge', fields: ['retries'] },
    { rule: 'buffer.memory at least 1024', values: { bufferMemory: '1023' }, code: 'tooSmall', fields: ['bufferMemory'] },
    { rule: 'max.in.flight at least 1', values: { maxInFlight: '0' }, code: 'tooSmall', fields: ['maxInFlight'] },
    { rule: 'request.timeout at least 1', values: { requestTimeoutMs: '0' }, code: 'tooSmall', fields: ['requestTimeoutMs'] },
    { rule: 'linger not negative', values: { lingerMs: '-1' }, code: 'tooSmall', fields: ['lingerMs'] },
    { rule: 'whole numbers only', values: { lingerMs: '1.5' }, code: 'notWholeNumber', fields: ['lingerMs'] },
    { rule: 'decimal digits only (Java reads no 1e3)', values: { batchSize: '1e3' }, code: 'notWholeNumber', fields: ['batchSize'] },
    { rule: 'acks is 0, 1 or all', values: { acks: '2' }, code: 'badAcks', fields: ['acks'] },
    { rule: 'compression is a Kafka codec', values: { compression: 'brotli' }, code: 'badCompression', fields: ['compression'] },
    { rule: 'presets are known', values: { preset: 'turbo' }, code: 'unknownPreset', fields: ['preset'] },
  ];
  for (const c of cases) {
    it(`${c.rule}: ${c.code} on ${c.fields.join(', ')} only`, () => {
      const values = { ...defaults(), ...c.values };
      const byField = problemsByField(values);
      assert.deepEqual(Object.keys(byField).sort(), [...c.fields].sort());
      for (const f of c.fields) assert.deepEqual(codes(values, f), [c.code], f);
      // The runtime refuses the same settings, with the same problem.
      assert.throws(() => producerOptionsFrom(values), (e: unknown) => e instanceof ProducerConfigError && e.details.some((p) => p.code === c.code));
      // The editor's reason is the translation of the code with its values; the English one is the runtime's message.
      const [p] = producerProblems(values).filter((x) => x.code === c.code);
      assert.equal(fieldProblem(c.fields[0], values), p.message);
      const t = (code: string, v: Readonly<Record<string, string | number>>) => `${code}(${JSON.stringify(v)})`;
      assert.equal(fieldProblem(c.fields[0], values, t), t(p.code, p.values));
    });
  }

  it('acks 1 with idempotence off is fine; turning idempotence on marks acks and idempotence', () => {
    assert.deepEqual(problemsByField({ ...defaults(), acks: '1', idempotence: false }), {});
    const on = { ...defaults(), acks: '1', idempotence: true };
    assert.match(fieldProblem('acks', on)!, /Must set acks to all in order to use the idempotent producer/);
    assert.match(fieldProblem('idempotence', on)!, /Must set acks to all/);
    assert.deepEqual(problemsByField(on).acks![0].values, { acks: '1' });
  });

  it('the delivery timeout problem carries the figures', () => {
    const p = problemsByField({ ...defaults(), deliveryTimeoutMs: '1000', lingerMs: '5', requestTimeoutMs: '30000' }).deliveryTimeoutMs![0];
    assert.deepEqual(p.values, { delivery: 1000, linger: 5, request: 30000, sum: 30005 });
  });

  it('a rule involving an unreadable field is left out (the field says why it is unreadable)', () => {
    const values = { ...defaults(), requestTimeoutMs: 'soon', deliveryTimeoutMs: '1000' };
    assert.deepEqual(codes(values, 'requestTimeoutMs'), ['notWholeNumber']);
    assert.deepEqual(codes(values, 'deliveryTimeoutMs'), []);
  });

  it('blank and whitespace fields take the default', () => {
    assert.deepEqual(problemsByField({ retries: '', lingerMs: '  ', acks: '', compression: '' }), {});
  });

  it('topic: blank (msg.topic) or a legal Kafka topic name', () => {
    assert.equal(fieldProblem('topic', { ...defaults(), topic: '' }), undefined);
    assert.equal(fieldProblem('topic', { ...defaults(), topic: 'tweets.en_1-a' }), undefined);
    assert.deepEqual(codes({ ...defaults(), topic: 'no spaces' }, 'topic'), ['topicName']);
    assert.deepEqual(codes({ ...defaults(), topic: '..' }, 'topic'), ['topicName']);
    assert.deepEqual(codes({ ...defaults(), topic: 'x'.repeat(250) }, 'topic'), ['topicName']);
    assert.equal(fieldProblem('topic', { ...defaults(), topic: 'x'.repeat(249) }), undefined);
  });

  it('metrics interval: a whole number of seconds', () => {
    assert.equal(fieldProblem('metricsInterval', { ...defaults(), metricsInterval: '10' }), undefined);
    assert.deepEqual(codes({ ...defaults(), metricsInterval: '1.5' }, 'metricsInterval'), ['metricsInterval']);
  });

  it('every code the rules can give has a message in en-US and ko', () => {
    const all: string[] = [
      'unknownPreset', 'notWholeNumber', 'badAcks', 'badCompression', 'tooSmall', 'tooLarge', 'idempotenceNeedsAcksAll',
      'idempotenceNeedsRetries', 'idempotenceMaxInFlight', 'backoffMaxBelowBackoff', 'deliveryTimeoutTooShort', 'topicName', 'metricsInterval',
    ] satisfies Array<ProducerProblemCode | 'topicName' | 'metricsInterval'>;
    for (const code of all) {
      assert.equal(typeof en.validate?.[code], 'string', `en-US validate.${code}`);
      assert.equal(typeof ko.validate?.[code], 'string', `ko validate.${code}`);
    }
    // ... and each case above uses its values in the message.
    for (const c of cases) {
      const [p] = producerProblems({ ...defaults(), ...c.values });
      for (const name of Object.keys(p.values)) assert.match(en.validate[p.code], new RegExp(`__${name}__`), `en-US validate.${p.code} uses __${name}__`);
    }
  });
});

// The broker node's settings rules (src/lib/kafka/broker-settings.ts), shared by the
// runtime (client-config.ts brokerSettingsFrom), the test-connection route and the
// editor's dialog (src/lib/editor/broker.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BrokerSettingsError,
  brokerValuesFrom,
  MAX_TIMEOUT_MS,
  parseBrokerList,
  readBrokerFields,
  splitHostPort,
  tlsConfigId,
  typedOrStored,
  type BrokerProblemCode,
} from '../../src/lib/kafka/broker-settings';
import { brokerSettingsFrom, parseBrokerList as parseFromClientConfig } from '../../src/lib/kafka/client-config';
import { DEFAULTS, fieldProblem, problemsByField } from '../../src/lib/editor/broker';

const codes = (fields: Record<string, unknown>, opts = {}) => readBrokerFields(fields, opts).problems.map((p) => `${p.code}@${p.fields.join('+')}`);
const ok = { brokers: '127.0.0.1:9092' };

describe('broker settings rules', () => {
  it('broker list: host:port entries, comma or space separated, IPv6 in brackets', () => {
    assert.deepEqual(parseBrokerList('a:1, b:2  c:3,[::1]:9092'), ['a:1', 'b:2', 'c:3', '[::1]:9092']);
    assert.equal(parseFromClientConfig, parseBrokerList, 'client-config re-exports the one parser');
    assert.deepEqual(splitHostPort('[::1]:9092'), { host: '::1', port: 9092 });
    assert.deepEqual(codes({ brokers: '' }), ['noBrokers@brokers']);
    assert.deepEqual(codes({ brokers: ' , ' }), ['noBrokers@brokers']);
    assert.deepEqual(codes({ brokers: 'a:1, b, c:0, d:65536, e:65535' }), ['notHostPort@brokers', 'notHostPort@brokers', 'notHostPort@brokers']);
    assert.throws(() => parseBrokerList('host'), (e: unknown) => e instanceof BrokerSettingsError && e.name === 'BrokerSettingsError' && /Broker "host" is not host:port/.test(e.message));
    assert.deepEqual(readBrokerFields({ brokers: 'a:1, b' }).problems[0].values, { address: 'b' });
  });

  it('timeouts: blank → default; whole milliseconds from 1 to 2^31-1 (a longer Node timer fires at once)', () => {
    const v = brokerValuesFrom({ ...ok, connectionTimeout: '', requestTimeout: ' ' });
    assert.equal(v.connectionTimeoutMs, 10000);
    assert.equal(v.requestTimeoutMs, 30000);
    assert.equal(brokerValuesFrom({ ...ok, connectionTimeout: '2000', requestTimeout: 5000 }).requestTimeoutMs, 5000);
    assert.equal(brokerValuesFrom({ ...ok, requestTimeout: String(MAX_TIMEOUT_MS) }).requestTimeoutMs, 2147483647);
    assert.deepEqual(codes({ ...ok, connectionTimeout: 'abc' }), ['notWholeNumber@connectionTimeout']);
    assert.deepEqual(codes({ ...ok, connectionTimeout: '1.5' }), ['notWholeNumber@connectionTimeout']);
    assert.deepEqual(codes({ ...ok, connectionTimeout: '0' }), ['outOfRange@connectionTimeout']);
    assert.deepEqual(codes({ ...ok, requestTimeout: '2147483648' }), ['outOfRange@requestTimeout']);
    assert.deepEqual(readBrokerFields({ ...ok, requestTimeout: '0' }).problems[0].values, { field: 'requestTimeout', min: 1, max: 2147483647, value: 0 });
  });

  it('client id: any text without control characters, at most 32767 bytes of UTF-8', () => {
    assert.equal(brokerValuesFrom({ ...ok, clientId: ' node-red 한국 ' }).clientId, 'node-red 한국');
    assert.deepEqual(codes({ ...ok, clientId: 'a\nb' }), ['clientIdControl@clientId']);
    assert.deepEqual(codes({ ...ok, clientId: '한'.repeat(10923) }), ['clientIdTooLong@clientId']); // 32769 bytes
    assert.deepEqual(codes({ ...ok, clientId: 'x'.repeat(32767) }), []);
  });

  it('SASL: a known mechanism, with a username and a password', () => {
    assert.equal(brokerValuesFrom({ ...ok, saslMechanism: 'none', username: 'ignored' }).sasl, undefined);
    assert.deepEqual(brokerValuesFrom({ ...ok, saslMechanism: 'scram-sha-512', username: 'u', password: 'p' }).sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    assert.deepEqual(codes({ ...ok, saslMechanism: 'gssapi' }), ['unknownSasl@saslMechanism']);
    assert.deepEqual(codes({ ...ok, saslMechanism: 'plain' }), ['saslNeedsUsername@username+saslMechanism', 'saslNeedsPassword@password+saslMechanism']);
    assert.deepEqual(codes({ ...ok, saslMechanism: 'scram-sha-256', username: 'u' }), ['saslNeedsPassword@password+saslMechanism']);
    assert.deepEqual(readBrokerFields({ ...ok, saslMechanism: 'scram-sha-256', username: 'u' }).problems[0].values, { mechanism: 'SCRAM-SHA-256' });
  });

  it('TLS: off ignores the TLS config; on with a config node needs that node; on without one uses the system CAs', () => {
    const exists = (id: string) => id === 'tls1';
    assert.deepEqual(brokerValuesFrom({ ...ok, usetls: false, tls: 'gone' }, { tlsConfigExists: exists }).tls, false);
    assert.deepEqual(brokerValuesFrom({ ...ok, usetls: true, tls: '' }, { tlsConfigExists: exists }), { ...brokerValuesFrom(ok), tls: true, tlsConfig: undefined });
    assert.equal(brokerValuesFrom({ ...ok, usetls: true, tls: '_ADD_' }).tlsConfig, undefined);
    assert.equal(brokerValuesFrom({ ...ok, usetls: 'true', tls: 'tls1' }, { tlsConfigExists: exists }).tlsConfig, 'tls1');
    assert.deepEqual(codes({ ...ok, usetls: true, tls: 'gone' }, { tlsConfigExists: exists }), ['tlsConfigMissing@tls']);
    assert.equal(tlsConfigId(' _ADD_ '), undefined);
  });

  it('every problem at once, named', () => {
    assert.throws(
      () => brokerValuesFrom({ brokers: 'x', connectionTimeout: '-1', saslMechanism: 'plain' }),
      (e: unknown) => e instanceof BrokerSettingsError && e.problems.length === 4 && /not host:port.*connect timeout.*username.*password/.test(e.message),
    );
  });

  it('a typed credential, or the stored one behind the editor\'s placeholder', () => {
    assert.equal(typedOrStored('typed', 'stored', '__PWRD__'), 'typed');
    assert.equal(typedOrStored('__PWRD__', 'stored', '__PWRD__'), 'stored');
    assert.equal(typedOrStored(undefined, 'stored', '__PWRD__'), 'stored');
    assert.equal(typedOrStored('', 'stored', '__PWRD__'), '', 'a cleared field is cleared');
    assert.equal(typedOrStored('__PWRD__', undefined, '__PWRD__'), '');
    assert.equal(typedOrStored('__PWRD__', 'stored'), '__PWRD__', 'no placeholder for a text field');
  });

  it('brokerSettingsFrom: the node\'s kafkajs settings, client id node-red-<id> when blank, TLS options from the config node', () => {
    const ca = { ca: ['PEM'] };
    const s = brokerSettingsFrom(
      { brokers: 'a:1,b:2', clientId: '', usetls: true, tls: 'tls1', saslMechanism: 'scram-sha-512', username: 'u', password: 'p' },
      { defaultClientId: 'node-red-b1', tlsOptions: (id) => (id === 'tls1' ? ca : undefined) },
    );
    assert.deepEqual(s, { brokers: ['a:1', 'b:2'], clientId: 'node-red-b1', connectionTimeoutMs: 10000, requestTimeoutMs: 30000, tls: ca, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    assert.equal(brokerSettingsFrom({ ...ok, usetls: true }, { defaultClientId: 'x', tlsOptions: () => undefined }).tls, true);
    assert.equal(brokerSettingsFrom({ ...ok, usetls: false, tls: 'tls1' }, { defaultClientId: 'x', tlsOptions: () => ca }).tls, undefined);
    assert.throws(() => brokerSettingsFrom({ ...ok, usetls: true, tls: 'gone' }, { defaultClientId: 'x', tlsOptions: () => undefined }), /TLS configuration node gone does not exist/);
  });
});

describe('broker dialog rules', () => {
  const dialog = { ...DEFAULTS, username: '', password: '' };
  const en = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../locales/en-US/streamsafe-kafka-broker.json'), 'utf8'))['streamsafe-kafka-broker'];
  const ko = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../locales/ko/streamsafe-kafka-broker.json'), 'utf8'))['streamsafe-kafka-broker'];

  it('the defaults are valid', () => {
    assert.deepEqual(problemsByField(dialog), {});
    assert.equal(DEFAULTS.connectionTimeout, '10000');
    assert.equal(DEFAULTS.requestTimeout, '30000');
  });

  it('each field gets its own problems; SASL marks the mechanism and the empty credential', () => {
    const values = { ...dialog, saslMechanism: 'scram-sha-512', username: 'u', password: '' };
    assert.match(fieldProblem('password', values)!, /needs a password/);
    assert.match(fieldProblem('saslMechanism', values)!, /needs a password/);
    assert.equal(fieldProblem('username', values), undefined);
    assert.equal(fieldProblem('password', { ...values, password: '__PWRD__' }), undefined, 'a stored password counts');
    // Outside the dialog the credentials may be unknown to the editor: not judged then.
    assert.equal(fieldProblem('saslMechanism', { ...values, credentialsKnown: false }), undefined);
    assert.equal(fieldProblem('brokers', { ...dialog, brokers: 'kafka' }, (code, v) => `${code}:${v.address}`), 'notHostPort:kafka');
    assert.match(fieldProblem('tls', { ...dialog, usetls: true, tls: 'gone' }, undefined, () => false)!, /does not exist/);
    assert.equal(fieldProblem('tls', { ...dialog, usetls: true, tls: 'gone' }), undefined, 'not asked: taken as existing');
  });

  it('every code has a message in en-US and ko that uses its values', () => {
    const samples: Record<BrokerProblemCode, Record<string, unknown>> = {
      noBrokers: { brokers: '' },
      notHostPort: { brokers: 'x' },
      notWholeNumber: { ...ok, connectionTimeout: 'x' },
      outOfRange: { ...ok, connectionTimeout: '0' },
      clientIdControl: { ...ok, clientId: 'a\tb' },
      clientIdTooLong: { ...ok, clientId: 'x'.repeat(40000) },
      unknownSasl: { ...ok, saslMechanism: 'x' },
      saslNeedsUsername: { ...ok, saslMechanism: 'plain', password: 'p' },
      saslNeedsPassword: { ...ok, saslMechanism: 'plain', username: 'u' },
      tlsConfigMissing: { ...ok, usetls: true, tls: 'gone' },
    };
    for (const [code, fields] of Object.entries(samples)) {
      const [p] = readBrokerFields(fields, { tlsConfigExists: () => false }).problems;
      assert.equal(p.code, code);
      for (const lang of [en, ko]) {
        assert.equal(typeof lang.validate?.[code], 'string', `validate.${code}`);
        // A field key is shown as its label (the translator adds it).
        for (const name of Object.keys(p.values).map((n) => (n === 'field' ? 'label' : n))) {
          assert.match(lang.validate[code], new RegExp(`__${name}__`), `validate.${code} uses __${name}__`);
        }
      }
    }
  });
});

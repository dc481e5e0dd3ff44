// Bad settings and bad control msgs in a real node-red process: each faulty consumer shows a
// red status naming the reason, control msgs the node cannot follow reach a Catch node as
// named errors, and nothing crashes (the runtime answers, a good consumer beside them keeps
// delivering).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getTestKafka } from '../support/kafka';
import { freePort } from '../support/kafka/ports';
import { createTopic, uniqueTopic } from '../support/node-red';
import {
  brokerConfigNode,
  catchRecorderNodes,
  connectProducer,
  countLines,
  produceKeyed,
  readJsonLines,
  recorderNode,
  startRuntime,
  statusRecorderNodes,
  waitFor,
  watchEditorStatus,
  type Runtime,
} from '../support/consumer-runtime';

interface ErrorLine {
  t: number;
  id?: string;
  name?: string;
  message?: string;
  code?: string;
}

let runtime: Runtime | undefined;
let editorWatch: { close(): void } | undefined;
let work: string;
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-consumer-bad-'));
});
after(async () => {
  editorWatch?.close();
  await runtime?.stop({ removeDir: true });
  if (process.env.STREAMSAFE_KEEP_CONSUMER_FILES !== '1') fs.rmSync(work, { recursive: true, force: true });
});

/** The error's name: Node-RED hands Catch `message: err.toString()`, i.e. "Name: message". */
function errorName(e: ErrorLine): string | undefined {
  return e.name ?? /^([A-Za-z_$][\w$]*):\s/.exec(e.message ?? '')?.[1];
}

/** An inject node whose msg carries the control fields at the top level (msg.action, msg.topic, msg.partition, msg.offset), and as the payload object too. */
function control(id: string, z: string, target: string, fields: Record<string, unknown>): Record<string, unknown> {
  const props: Array<Record<string, unknown>> = [{ p: 'payload' }];
  for (const [k, v] of Object.entries(fields)) props.push({ p: k, v: typeof v === 'string' ? v : JSON.stringify(v), vt: typeof v === 'string' ? 'str' : 'num' });
  return { id, type: 'inject', z, name: `inject ${id}`, props, repeat: '', crontab: '', once: false, topic: '', payload: JSON.stringify(fields), payloadType: 'json', wires: [[target]] };
}

describe('consumer: bad settings and bad control msgs in a real runtime', () => {
  it('red status with the reason for each bad setting, named errors for bad control msgs, runtime alive', async (t) => {
    const { brokers } = await getTestKafka();
    const topic = uniqueTopic('cbad');
    await createTopic(brokers, topic, 2);
    const producer = await connectProducer(brokers);
    await produceKeyed(producer, topic, 0, 20);
    const closedPort = await freePort(); // nothing listens there
    const z = 'tab';
    const files = { status: path.join(work, 'status'), errors: path.join(work, 'errors'), delivered: path.join(work, 'delivered') };
    const consumer = (id: string, extra: Record<string, unknown>, wires: string[][] = []) => ({
      id,
      type: 'streamsafe-kafka-consumer',
      z,
      name: `consumer ${id}`, // not the id: a property equal to a node id reads as a reference to it
      broker: 'b1',
      topics: topic,
      topicsType: 'list',
      groupId: `g-${id}-${topic}`,
      start: 'earliest',
      payloadFormat: 'text',
      keyFormat: 'text',
      headersFormat: 'text',
      maxOutstanding: 100,
      commitMode: 'atLeastOnce',
      finishOn: 'commitNode',
      ...extra,
      wires,
    });
    const bad = {
      noGroup: consumer('noGroup', { groupId: '' }),
      badRegex: consumer('badRegex', { topicsType: 'regex', topics: 'cbad-([' }),
      missingBroker: consumer('missingBroker', { broker: 'no-such-config-node' }),
      unreachable: consumer('unreachable', { broker: 'bGone' }),
    };
    const flow = [
      { id: z, type: 'tab', label: 'bad settings' },
      brokerConfigNode('b1', brokers),
      brokerConfigNode('bGone', [`127.0.0.1:${closedPort}`], { connectionTimeout: '1000', requestTimeout: '3000' }),
      ...Object.values(bad),
      consumer('good', {}, [['rec']]),
      recorderNode('rec', z, files.delivered, [['commit']]),
      { id: 'commit', type: 'streamsafe-kafka-commit', z, wires: [] },
      // A control msg to each consumer refused for its settings: answered with the reason.
      control('pauseNoGroup', z, 'noGroup', { action: 'pause' }),
      control('pauseBadRegex', z, 'badRegex', { action: 'pause' }),
      control('pauseMissingBroker', z, 'missingBroker', { action: 'pause' }),
      control('seekNoOffset', z, 'good', { action: 'seek', topic, partition: 0 }),
      control('seekBadOffset', z, 'good', { action: 'seek', topic, partition: 0, offset: 'abc' }),
      control('nonsense', z, 'good', { action: 'nonsense' }),
      ...statusRecorderNodes('st', z, [...Object.keys(bad), 'good'], files.status),
      ...catchRecorderNodes('ca', z, [...Object.keys(bad), 'good'], files.errors),
    ];
    runtime = await startRuntime('bad', flow);
    // What the editor shows. A Status node does not see these: a status set while a node is
    // created (settings refused) comes before Node-RED wires Status and Catch nodes.
    const editor = await watchEditorStatus(runtime.url);
    editorWatch = editor;

    // Each bad setting: a red status naming the reason, the reason in full in the log.
    const reasons: Record<keyof typeof bad, RegExp> = {
      noGroup: /group id/i,
      badRegex: /regular expression/i,
      missingBroker: /broker/i,
      unreachable: /ECONNREFUSED|connect|broker|127\.0\.0\.1/i,
    };
    const redOf = (id: string) => editor.statuses.find((s) => s.id === id && s.fill === 'red');
    const found: Record<string, string | undefined> = {};
    const redDeadline = Date.now() + 45_000;
    for (const id of Object.keys(bad) as Array<keyof typeof bad>) {
      const red = await waitFor(`a red status on ${id}`, () => redOf(id), Math.max(0, redDeadline - Date.now()), 250).catch(() => undefined);
      found[id] = red?.text;
    }
    t.diagnostic(`red statuses in the editor: ${JSON.stringify(found)}`);
    for (const id of Object.keys(bad) as Array<keyof typeof bad>) {
      const all = editor.statuses.filter((s) => s.id === id);
      assert.ok(found[id] !== undefined, `${id}: a red status; got ${JSON.stringify(all.slice(-3))} (editor saw ${editor.statuses.length} statuses); runtime log:\n${runtime.log().slice(-3000)}`);
      assert.match(found[id]!, reasons[id], `${id}: the status names the reason`);
      assert.match(runtime.log(), new RegExp(`\\[error\\] \\[streamsafe-kafka-consumer:consumer ${id}\\] .*${reasons[id].source}`, 'i'), `${id}: the reason is logged`);
    }

    // A refused consumer answers a control msg with its reason, as a named error.
    for (const id of ['pauseNoGroup', 'pauseBadRegex', 'pauseMissingBroker']) assert.equal(await runtime.inject(id), 200, `inject ${id}`);
    const refusals = await waitFor(
      'the three refused consumers to answer',
      () => {
        const e = readJsonLines<ErrorLine>(files.errors).filter((x) => ['noGroup', 'badRegex', 'missingBroker'].includes(x.id ?? ''));
        return e.length >= 3 ? e : undefined;
      },
      20_000,
    ).catch(() => readJsonLines<ErrorLine>(files.errors));
    t.diagnostic(`refusals: ${JSON.stringify(refusals.map((e) => `${e.id}: ${e.message}`))}`);
    for (const id of ['noGroup', 'badRegex', 'missingBroker'] as const) {
      const e = refusals.find((x) => x.id === id);
      assert.ok(e, `${id}: an error at Catch for the control msg; got ${JSON.stringify(refusals)}`);
      assert.equal(errorName(e), 'ConsumerConfigError', `${id}: ${e.message}`);
      assert.match(e.message ?? '', reasons[id], `${id}: the error names the reason`);
    }

    // The good consumer beside them works.
    await waitFor('the good consumer delivers', () => countLines(files.delivered) >= 20, 45_000);

    // Bad control msgs: a named error at Catch each, the consumer goes on.
    for (const id of ['seekNoOffset', 'seekBadOffset', 'nonsense']) assert.equal(await runtime.inject(id), 200, `inject ${id}`);
    const errors = await waitFor(
      'three errors at Catch from the good consumer',
      () => {
        const e = readJsonLines<ErrorLine>(files.errors).filter((x) => x.id === 'good');
        return e.length >= 3 ? e : undefined;
      },
      20_000,
    ).catch(() => readJsonLines<ErrorLine>(files.errors).filter((x) => x.id === 'good'));
    t.diagnostic(`control errors: ${JSON.stringify(errors.map((e) => `${errorName(e)} | ${e.message}`))}`);
    // One error each, naming what is wrong: the missing seek target, the bad offset, the unknown action.
    const expectations: Array<[string, RegExp]> = [
      ['seek without an offset', /seek[^\n]*(offset|timestamp)/i],
      ['seek to offset "abc"', /offset[^\n]*"?abc"?/i],
      ['action "nonsense"', /action[^\n]*nonsense/i],
    ];
    for (const [what, re] of expectations) assert.equal(errors.filter((e) => re.test(e.message ?? '')).length, 1, `${what}: one error matching ${re}; got ${JSON.stringify(errors)}`);
    assert.equal(errors.length, 3, `three errors; got ${JSON.stringify(errors)}`);
    for (const e of errors) {
      const name = errorName(e);
      assert.ok(name && name !== 'Error' && name !== 'TypeError', `a named error, not a generic one: ${JSON.stringify(e)}`);
    }

    await produceKeyed(producer, topic, 20, 30);
    await producer.disconnect();
    await waitFor('the good consumer still delivers after the bad control msgs', () => countLines(files.delivered) >= 30, 30_000);
    const good = editor.statuses.filter((s) => s.id === 'good');
    assert.notEqual(good[good.length - 1]?.fill, 'red', `good consumer status: ${JSON.stringify(good.slice(-3))}`);

    // Nothing crashed.
    assert.ok(runtime.alive(), 'node-red alive');
    assert.equal((await runtime.get('/flows')).status, 200, 'the admin API answers');
    assert.doesNotMatch(runtime.log(), /Uncaught|UnhandledPromiseRejection|FATAL/i, 'no uncaught error in the runtime log');
  });
});

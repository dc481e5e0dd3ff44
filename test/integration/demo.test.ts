// `npm start` as a user runs it: Kafka, the X emulator and Node-RED come up with the
// example flows sharing one broker config node; the flagship flow carries emulated posts
// into Kafka keyed by author and its debug node shows "@author: text → tweets-P@O";
// the user's edits survive the next start (only the broker and X addresses are set
// again), --reset writes the examples afresh; Ctrl-C (SIGINT) stops everything; a busy
// port is named with a free one to use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { kafkaClient, type ReadRecord } from '../support/node-red';
import { debugMessages, freePort, listening, processesUnder, startDemo, type DebugMessage } from '../support/demo';
import { partitionForKey } from '../../src/lib/kafka/murmur2';

const root = path.resolve(__dirname, '..', '..');
const flagship = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'x-stream-to-kafka.json'), 'utf8')) as Array<Record<string, any>>;
const debugNodeId = flagship.find((n) => n.type === 'debug' && n.name === 'in Kafka')!.id as string;
const flagshipTab = flagship.find((n) => n.type === 'tab')!;
const readBack = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'read-back-x-stream.json'), 'utf8')) as Array<Record<string, any>>;
const readBackTab = readBack.find((n) => n.type === 'tab')!;
const readBackDebugId = readBack.find((n) => n.type === 'debug' && n.name === 'read back')!.id as string;
const LINE = /^@(\w+): (.+) → (tweets)-(\d+)@(\d+)$/s;

type FlowNode = Record<string, any>;

async function getFlows(port: number): Promise<FlowNode[]> {
  const res = await fetch(`http://127.0.0.1:${port}/flows`);
  assert.equal(res.status, 200);
  return (await res.json()) as FlowNode[];
}

/** Every record of `tweets` up to the high watermarks of now, read back with a kafkajs consumer. */
async function readAll(brokers: string[]): Promise<ReadRecord[]> {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets('tweets');
  await admin.disconnect();
  // The flow goes on producing: read each partition up to its high watermark of now.
  const left = new Map(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high)]));
  const out: ReadRecord[] = [];
  if (left.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `demo-test-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'tweets', fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`partitions not read to their end in 30 s: ${[...left.keys()]}`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            out.push({ partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp });
            if (left.has(partition) && Number(message.offset) + 1 >= left.get(partition)!) left.delete(partition);
            if (left.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

function runDemo(port: number, userDir: string, extra: Record<string, string> = {}) {
  return startDemo(root, [process.execPath, path.join(root, 'scripts', 'demo.js')], {
    PORT: String(port),
    DEMO_USER_DIR: userDir,
    DEMO_NO_BUILD: '1',
    DEMO_POSTS_PER_SECOND: '100',
    ...extra,
  });
}

async function stopped(demo: ReturnType<typeof runDemo>, brokers: string[], userDir: string): Promise<void> {
  const code = await demo.ctrlC(30_000);
  assert.equal(code, 0, `the demo stopped on Ctrl-C with exit 0:\n${demo.output().slice(-2000)}`);
  assert.match(demo.output(), /\[demo\] stopped/);
  assert.equal(await listening(brokers[0]), false, 'the broker is gone');
  assert.deepEqual(processesUnder(userDir), [], 'no Node-RED left running on the user dir');
}

test('npm start: one broker node for all flows, the debug line names author, text and topic-partition@offset; edits kept on the next start; --reset', { timeout: 300_000 }, async (t) => {
  const port = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-demo-'));
  let demo: ReturnType<typeof runDemo> | undefined;
  try {
    // ---- first start: the example flows are written --------------------------------
    let started = Date.now();
    demo = runDemo(port, userDir);
    let services = await demo.services();
    await demo.waitFor(/\[demo\] ready in \d+ s: open http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    t.diagnostic(`first start: ready in ${Date.now() - started} ms`);
    assert.match(demo.output(), /\[demo\] wrote the example flows to .*flows\.json/);
    assert.match(demo.output(), /`npm start -- --reset` \(or DEMO_RESET=1\) starts over/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'the editor is served');

    const flows = await getFlows(port);
    const brokers = flows.filter((n) => n.type === 'streamsafe-kafka-broker');
    const accounts = flows.filter((n) => n.type === 'streamsafe-x-credentials');
    assert.equal(brokers.length, 1, 'one broker config node');
    assert.equal(accounts.length, 1, 'one X credentials node');
    assert.equal(brokers[0].brokers, services.brokers.join(','), 'the broker node points at the demo broker');
    assert.equal(accounts[0].baseUrl, services.x, 'the X credentials point at the emulator');
    const users = flows.filter((n) => 'broker' in n);
    assert.ok(users.length >= 4, 'the producers and partition key nodes of every example');
    for (const n of users) assert.equal(n.broker, brokers[0].id, `${n.type} ${n.id} uses the one broker node`);
    for (const n of flows.filter((f) => 'account' in f)) assert.equal(n.account, accounts[0].id);
    // The README names what is deployed, and which tabs run.
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const tabs = flows.filter((n) => n.type === 'tab');
    assert.equal(tabs.length, fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).length, 'one tab per example');
    for (const tab of tabs) {
      assert.ok(readme.includes(`*${tab.label}*`), `README names the tab *${tab.label}*`);
      assert.equal(tab.disabled, tab.id !== flagshipTab.id && tab.id !== readBackTab.id, `${tab.label}: only the flagship and the read-back run`);
    }

    // The flagship's debug line, as the sidebar gets it, checked against Kafka.
    const debug = await debugMessages(port);
    const lines: DebugMessage[] = [];
    for (let i = 0; i < 3; i++) lines.push(await debug.next((m) => m.id === debugNodeId && !lines.includes(m), 60_000));
    // The read-back tab reads the posts back from Kafka: "tweets-<partition>@<offset>: author <id>: text".
    const back = await debug.next((m) => m.id === readBackDebugId, 60_000);
    debug.close();
    t.diagnostic(`read back: ${back.msg.slice(0, 120)}`);
    assert.match(back.msg, /^"?tweets-\d+@\d+: author \d+: /);
    t.diagnostic(`debug lines: ${lines.map((l) => l.msg.slice(0, 120)).join(' | ')}`);
    const records = await readAll(services.brokers);
    for (const line of lines) {
      assert.match(line.format, /^string/);
      const m = LINE.exec(line.msg);
      assert.ok(m, `"${line.msg}" reads "@author: text → tweets-<partition>@<offset>"`);
      const [, username, text, , partition, offset] = m;
      const record = records.find((r) => r.partition === Number(partition) && r.offset === offset);
      assert.ok(record, `tweets-${partition}@${offset} is in Kafka`);
      const post = JSON.parse(record.value!.toString());
      // X escapes &, < and > in post texts; the line shows them as they read.
      const full = post.text.replace(/\s+/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      if (text.endsWith('…')) assert.ok(full.startsWith(text.slice(0, -1)) && full.length >= text.length, `"${text}" begins the post text "${full}"`);
      else assert.equal(text, full, 'the line shows the post text');
      // Node-RED's sidebar folds strings over 80 characters: the line stays within them, topic-partition@offset included.
      assert.ok([...line.msg].length <= 76, `${line.msg.length} characters`);
      assert.equal(record.key!.toString(), post.author_id);
      assert.notEqual(username, post.author_id, 'a username, not the author id');
    }
    // Every post is keyed by author, on the partition murmur2 gives (as the Java client).
    const posts = records.filter((r) => typeof JSON.parse(r.value!.toString()).author_id === 'string');
    assert.ok(posts.length >= 3);
    for (const r of posts) assert.equal(r.partition, partitionForKey(r.key!, 6));

    // The user edits the flow in the editor and deploys.
    const edited = flows.map((n) => (n.id === debugNodeId ? { ...n, name: 'in Kafka (my edit)' } : n));
    edited.push({ id: 'mycomment0000001', type: 'comment', z: flagshipTab.id, name: 'my note', info: '', x: 600, y: 300, wires: [] });
    const deploy = await fetch(`http://127.0.0.1:${port}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(edited),
    });
    assert.equal(deploy.status, 204, await deploy.text());
    await stopped(demo, services.brokers, userDir);
    const firstBrokers = services.brokers;

    // ---- second start, same user dir: the edits stay, the addresses follow -------------
    started = Date.now();
    demo = runDemo(port, userDir);
    services = await demo.services();
    await demo.waitFor(/\[demo\] ready in/, 60_000);
    t.diagnostic(`second start: ready in ${Date.now() - started} ms`);
    assert.notDeepEqual(services.brokers, firstBrokers, 'a new broker address (a fresh broker each run)');
    assert.match(demo.output(), /\[demo\] keeping your flows in .*flows\.json .*pointing the broker node "demo Kafka" at 127\.0\.0\.1:\d+ and the X credentials at the emulator http/);
    assert.doesNotMatch(demo.output(), /wrote the example flows/);
    const kept = await getFlows(port);
    assert.equal(kept.find((n) => n.id === debugNodeId)?.name, 'in Kafka (my edit)', 'the edit is kept');
    assert.ok(kept.some((n) => n.id === 'mycomment0000001'), 'the added node is kept');
    assert.equal(kept.find((n) => n.type === 'streamsafe-kafka-broker')!.brokers, services.brokers.join(','), 're-pointed at this run\'s broker');
    // ...and the edited flow runs against the new broker and emulator.
    const debug2 = await debugMessages(port);
    const again = await debug2.next((m) => m.id === debugNodeId, 60_000);
    debug2.close();
    assert.equal(again.name, 'in Kafka (my edit)');
    assert.match(again.msg, LINE);
    await stopped(demo, services.brokers, userDir);

    // ---- --reset: the example flows again, the user's kept beside ---------------------
    demo = startDemo(root, [process.execPath, path.join(root, 'scripts', 'demo.js'), '--reset'], { PORT: String(port), DEMO_USER_DIR: userDir, DEMO_NO_BUILD: '1' });
    services = await demo.services();
    await demo.waitFor(/\[demo\] ready in/, 60_000);
    assert.match(demo.output(), /--reset: your previous flows are saved as .*flows\.json\.before-reset/);
    const reset = await getFlows(port);
    assert.equal(reset.find((n) => n.id === debugNodeId)?.name, 'in Kafka');
    assert.ok(!reset.some((n) => n.id === 'mycomment0000001'));
    assert.match(fs.readFileSync(path.join(userDir, 'flows.json.before-reset'), 'utf8'), /my note/);
    await stopped(demo, services.brokers, userDir);
  } finally {
    // A failed assertion must not leave the demo running (nor this test process waiting on it).
    await demo?.ctrlC(30_000);
    fs.rmSync(userDir, { recursive: true, force: true });
  }
});

test('npm start: a busy port is named, with a free one to use, before anything starts', { timeout: 60_000 }, async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-demo-port-'));
  try {
    const started = Date.now();
    const demo = runDemo(port, userDir);
    const code = await new Promise<number | null>((r) => demo.child.once('exit', r));
    assert.equal(code, 1);
    assert.ok(Date.now() - started < 10_000, 'at once');
    const m = /\[demo\] port (\d+) is in use .*: PORT=(\d+) npm start/.exec(demo.output());
    assert.ok(m, demo.output());
    assert.equal(Number(m[1]), port);
    assert.ok(Number(m[2]) > port);
    assert.doesNotMatch(demo.output(), /starting Kafka|Node-RED version/, 'nothing was started');
  } finally {
    srv.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
});

test('each example imports alone: every config node it uses is in it (the demo merges them into one)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildDemoFlows, fromOlderDemo } = require(path.join(root, 'scripts', 'demo-flows.js'));
  const examples: FlowNode[] = [];
  for (const file of fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'))) {
    const nodes = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as FlowNode[];
    examples.push(...nodes);
    const ids = new Set(nodes.map((n) => n.id));
    for (const n of nodes) {
      for (const key of ['broker', 'account', 'tls']) if (n[key]) assert.ok(ids.has(n[key]), `${file}: ${n.type} ${n.id} uses ${key} ${n[key]}, which is not in the file`);
      if (n.z) assert.ok(ids.has(n.z), `${file}: ${n.id} is on tab ${n.z}, which is not in the file`);
      for (const out of n.wires ?? []) for (const to of out) assert.ok(ids.has(to), `${file}: ${n.id} is wired to ${to}, which is not in the file`);
    }
  }
  const { flows } = buildDemoFlows() as { flows: FlowNode[] };
  const ids = new Set(flows.map((n) => n.id));
  assert.equal(ids.size, flows.length, 'no id twice in the demo');
  for (const n of flows) for (const key of ['broker', 'account']) if (n[key]) assert.ok(ids.has(n[key]), `${n.id}: ${key} ${n[key]}`);
  // The demo before it kept the user's flows wrote the examples as they are, every start: such
  // a flows.json holds no edit and is replaced; the demo's own flows, edited or not, are kept.
  assert.equal(fromOlderDemo(examples), true);
  assert.equal(fromOlderDemo(flows), false);
  assert.equal(fromOlderDemo([...flows, { id: 'n1', type: 'comment', z: flows[0].id }]), false);
});

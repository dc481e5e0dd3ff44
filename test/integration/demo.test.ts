// `npm start` as a user runs it: Kafka, the X emulator and Node-RED come up,
// the flagship flow carries emulated posts into Kafka keyed by author, and
// Ctrl-C (SIGINT) stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTopic } from '../support/node-red';
import { partitionForKey } from '../../src/lib/kafka/murmur2';

const root = path.resolve(__dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

test('npm start: the demo runs the flagship flow into Kafka and stops on Ctrl-C', { timeout: 180_000 }, async () => {
  const port = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-demo-'));
  const demo = spawn(process.execPath, [path.join(root, 'scripts', 'demo.js')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DEMO_NO_BUILD: '1', DEMO_USER_DIR: userDir, DEMO_POSTS_PER_SECOND: '200' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  demo.stdout.on('data', (d) => (out += d));
  demo.stderr.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 120_000;
    while (!/Started flows/.test(out) || !/\[demo\] services /.test(out)) {
      if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}):\n${out}`);
      if (Date.now() > deadline) throw new Error(`the demo did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const services = JSON.parse(/\[demo\] services (.*)/.exec(out)![1]) as { brokers: string[]; x: string };
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200, 'the editor is served');
    const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as Array<{ type: string }>;
    for (const type of ['streamsafe-x-stream', 'streamsafe-partition-key', 'streamsafe-kafka-producer']) {
      assert.ok(flows.some((n) => n.type === type), `${type} deployed`);
    }
    // Posts from the emulator arrive in Kafka, keyed by author, on murmur2's partition.
    let records: Awaited<ReturnType<typeof readTopic>> = [];
    for (let attempt = 0; ; attempt++) {
      try {
        records = await readTopic(services.brokers, 'tweets', 60, 30_000);
        break;
      } catch (e) {
        // The topic appears with the first record produced.
        if (attempt >= 10 || (e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const posts = records.filter((r) => {
      const v = JSON.parse(r.value!.toString());
      return typeof v.id === 'string' && typeof v.author_id === 'string';
    });
    assert.ok(posts.length > 0, 'emulated X posts reached Kafka');
    for (const r of posts) {
      const v = JSON.parse(r.value!.toString());
      assert.equal(r.key!.toString(), v.author_id);
      assert.equal(r.partition, partitionForKey(r.key!, 6));
    }
  } finally {
    demo.kill('SIGINT');
    const exited = await Promise.race([new Promise((r) => demo.once('exit', () => r(true))), new Promise((r) => setTimeout(() => r(false), 20_000))]);
    if (!exited) demo.kill('SIGKILL');
    fs.rmSync(userDir, { recursive: true, force: true });
    assert.ok(exited, `the demo stopped on Ctrl-C:\n${out.slice(-2000)}`);
  }
});

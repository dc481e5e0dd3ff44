// What a newcomer does: `git clone`, `cd`, `npm start`, with no node_modules. The clone
// is of this checkout's HEAD (commit what you want tested); `npm start` must install the
// packages itself (npm ci, served by the local npm cache after the first time), build,
// start Kafka, the X emulator and Node-RED, and carry posts into Kafka; Ctrl-C stops it all.
// The Kafka jars come from ~/.m2 and the tests' cache, as for every Kafka test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTopic } from '../support/node-red';
import { freePort, listening, processesUnder, startDemo } from '../support/demo';

const root = path.resolve(__dirname, '..', '..');

function git(args: string[], cwd = root): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function isGitCheckout(): boolean {
  try {
    return git(['rev-parse', '--is-inside-work-tree']) === 'true';
  } catch {
    return false;
  }
}

test('a fresh clone: npm start installs, builds, carries posts into Kafka, and stops on Ctrl-C', { timeout: 420_000, skip: isGitCheckout() ? false : 'not a git checkout (e.g. an unpacked tarball): nothing to clone' }, async (t) => {
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  if (dirty) t.diagnostic(`uncommitted changes are not in the clone: it tests HEAD ${head}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-fresh-clone-'));
  const clone = path.join(tmp, 'node-red-twitter-kafka');
  const userDir = path.join(tmp, 'node-red-user');
  let demo: ReturnType<typeof startDemo> | undefined;
  try {
    git(['clone', '-q', root, clone], tmp);
    assert.equal(git(['rev-parse', '--short', 'HEAD'], clone), head);
    assert.ok(!fs.existsSync(path.join(clone, 'node_modules')), 'the clone has no node_modules');

    const port = await freePort();
    // The npm that runs this test (npm test), else the one on PATH.
    const npm = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const started = Date.now();
    const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    demo = startDemo(clone, [...npm, 'start'], { PORT: String(port), DEMO_USER_DIR: userDir });

    await demo.waitFor(/\[demo\] node_modules lacks .*: running `npm ci --prefer-offline --no-audit --no-fund`/, 30_000);
    await demo.waitFor(/\[demo\] installed in \d+ s/, 240_000);
    t.diagnostic(`npm ci (and the build, by prepare) done after ${since()}`);
    const services = await demo.services(120_000);
    await demo.waitFor(/\[demo\] ready in \d+ s: open http:\/\/127\.0\.0\.1:\d+/, 60_000);
    t.diagnostic(`Node-RED ready after ${since()}`);
    assert.doesNotMatch(demo.output(), /\[demo\] building/, 'npm ci built it: no second build');
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'the editor is served');

    const [record] = await readTopic(services.brokers, 'tweets', 1, 90_000);
    const post = JSON.parse(record.value!.toString());
    assert.equal(typeof post.id, 'string');
    assert.equal(record.key!.toString(), post.author_id, 'a post keyed by its author');
    t.diagnostic(`first post in Kafka after ${since()}`);

    const stopping = Date.now();
    const code = await demo.ctrlC(30_000);
    // npm dies of the SIGINT itself (a shell shows 130) whatever its script did; the demo says it stopped.
    assert.ok(code === 0 || code === 'SIGINT', `npm start ended with ${code} on Ctrl-C:\n${demo.output().slice(-2000)}`);
    assert.match(demo.output(), /\[demo\] stopped/);
    t.diagnostic(`stopped ${Date.now() - stopping} ms after Ctrl-C; ${since()} in all`);
    assert.equal(await listening(services.brokers[0]), false, 'the broker is gone');
    assert.deepEqual(processesUnder(clone), [], 'nothing of the clone still runs');
  } finally {
    await demo?.ctrlC(30_000);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

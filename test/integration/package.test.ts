// The package as a user gets it: `npm pack`, installed into a fresh Node-RED
// user dir the way the palette manager does (npm install of the tarball),
// then a real node-red process loads every node, its help and the examples.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startNodeRed, type NodeRedProcess } from '../support/node-red-process';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
let work: string;
let red: NodeRedProcess | undefined;

function npm(args: string[], cwd: string): string {
  const npmCli = process.env.npm_execpath;
  return npmCli
    ? execFileSync(process.execPath, [npmCli, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-pack-'));
});
after(async () => {
  await red?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('npm pack → install into a user dir → node-red loads every node, help and example', { timeout: 240_000 }, async () => {
  // --ignore-scripts: dist/ is built by the test run already; pack what is there.
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root));
  const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
  for (const [type, file] of Object.entries(pkg['node-red'].nodes as Record<string, string>)) {
    const dir = path.dirname(file);
    const base = path.basename(file, '.js');
    assert.ok(files.includes(file), `${type}: ${file} is packed`);
    assert.ok(files.includes(`${dir}/${base}.html`), `${type}: its editor html is packed beside it`);
    assert.ok(files.includes(`${dir}/locales/en-US/${base}.json`), `${type}: its labels are packed`);
    assert.ok(files.includes(`${dir}/locales/en-US/${base}.html`), `${type}: its help is packed`);
  }
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/')), 'no sources, tests or benches');
  assert.ok(files.some((f) => f.startsWith('examples/')));

  const userDir = path.join(work, 'userdir');
  fs.mkdirSync(userDir);
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  npm(['install', '--no-audit', '--no-fund', '--omit=dev', path.join(work, packed[0].filename)], userDir);

  red = await startNodeRed([], { userDir });
  const nodes = (await (await fetch(`${red.url}/nodes`, { headers: { Accept: 'application/json' } })).json()) as Array<{
    id: string; module: string; enabled: boolean; loaded: boolean; err?: string; types: string[];
  }>;
  const ours = nodes.filter((n) => n.module === pkg.name);
  assert.deepEqual(ours.flatMap((n) => n.types).sort(), Object.keys(pkg['node-red'].nodes).sort());
  for (const n of ours) {
    assert.equal(n.err, undefined, `${n.id}: ${n.err}`);
    assert.equal(n.enabled, true);
  }
  const html = await (await fetch(`${red.url}/nodes`, { headers: { Accept: 'text/html' } })).text();
  for (const type of Object.keys(pkg['node-red'].nodes)) {
    assert.ok(html.includes(`data-template-name="${type}"`), `${type} editor`);
    assert.ok(html.includes(`data-help-name="${type}"`), `${type} help`);
  }
  // Menu → Import → Examples lists the module and its flows.
  const modules = (await (await fetch(`${red.url}/library/examples/flows/`)).json()) as string[];
  assert.ok(modules.includes(pkg.name), `examples of ${pkg.name} listed: ${modules}`);
  const listed = (await (await fetch(`${red.url}/library/examples/flows/${pkg.name}`)).json()) as Array<{ fn: string }>;
  const expected = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
  assert.deepEqual(listed.map((e) => e.fn).sort(), expected.sort());
  // Every non-config node type of the package is used in some example (Flow Library scorecard).
  const used = new Set<string>();
  for (const e of expected) {
    const flow = (await (await fetch(`${red.url}/library/examples/flows/${pkg.name}/${e}`)).json()) as Array<{ type: string }>;
    for (const n of flow) used.add(n.type);
  }
  for (const type of Object.keys(pkg['node-red'].nodes)) {
    if (/-broker$|-credentials$/.test(type)) continue; // config nodes
    assert.ok(used.has(type), `${type} appears in an example`);
  }
  assert.doesNotMatch(red.log(), /\[error\]/, 'node-red logged no error');
});

// Where a profiled benchmark child spends its time: self time from a .cpuprofile
// (node --cpu-prof, written by `run.ts --cpu-prof`) by area and by function.
//
//   node --import tsx bench/producer/profile-summary.ts <file.cpuprofile> [--top=30]
import * as fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  if (!url) return 'V8/native builtins';
  if (url.includes('/dist/lib/')) return `this package: dist/lib/${url.split('/dist/lib/')[1]}`;
  if (url.includes('/dist/nodes/')) return `this package: dist/nodes/${url.split('/dist/nodes/')[1]}`;
  if (url.includes('/kafkajs/src/')) {
    const rest = url.split('/kafkajs/src/')[1];
    return `kafkajs: ${rest.split('/').slice(0, 2).join('/')}`;
  }
  if (url.includes('/@node-red/')) return `node-red: ${url.split('/@node-red/')[1].split('/').slice(0, 3).join('/')}`;
  if (url.includes('/bench/producer/')) return `bench harness: ${url.split('/bench/producer/')[1]}`;
  if (url.startsWith('node:')) return `node core: ${url.slice(5)}`;
  if (url.includes('/node_modules/')) return `other package: ${url.split('/node_modules/').pop()!.split('/')[0]}`;
  return url;
}

export function summarize(file: string, top = 30): string {
  const p: Profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  let total = 0;
  let idle = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const a = area(n.callFrame.url, n.callFrame.functionName);
    if (a === 'idle') {
      idle += us;
      continue;
    }
    total += us;
    areas.set(a, (areas.get(a) ?? 0) + us);
    const short = n.callFrame.url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  // Inclusive time (self + callees) per function of this package and a few entry points,
  // each node counted once even when the function recurses.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  const label = (n: ProfileNode) => {
    const short = n.callFrame.url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/');
    return `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
  };
  const interesting = (n: ProfileNode) =>
    n.callFrame.url.includes('/dist/lib/') || n.callFrame.url.includes('/dist/nodes/') ||
    /sendBatch|sendMessages|Node\.receive|Node\.send|deliverMessageToDestination|processImmediate|runMicrotasks/.test(n.callFrame.functionName);
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (area(n.callFrame.url, n.callFrame.functionName) === 'idle') break;
      if (!interesting(n)) continue;
      const key = label(n);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const wall = p.endTime - p.startTime;
  const lines: string[] = [];
  lines.push(`profile ${file}: ${(wall / 1e6).toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s on the main thread, ${(idle / 1e6).toFixed(1)} s idle`);
  lines.push('');
  lines.push('self time by area:');
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${a}`);
  lines.push('');
  lines.push('self time by function:');
  for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${f}`);
  lines.push('');
  lines.push('inclusive time (self + callees) of this package\'s functions and the runtime entry points:');
  for (const [f, us] of [...inclusive].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${f}`);
  return lines.join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [--top=N]');
    process.exit(2);
  }
  const topArg = process.argv.find((a) => a.startsWith('--top='));
  console.log(summarize(file, topArg ? Number(topArg.slice(6)) : 30));
}

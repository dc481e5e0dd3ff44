// Runs Java main classes with the Kafka classpath, always through StreamsafeLauncher so
// that no JVM outlives the process that started it.
import { spawn, execFile, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, kafkaClasspath } from './classpath';
import { trackChild } from './cleanup';

const execFileP = promisify(execFile);
const launcherSource = path.join(__dirname, 'StreamsafeLauncher.java');
export const brokerLog4jConfig = path.join(__dirname, 'log4j2.properties');
export const toolsLog4jConfig = path.join(__dirname, 'log4j2-tools.properties');

function javaBin(name: 'java' | 'javac'): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', name) : name;
}

/**
 * Compiles one Java source file once per source version and classpath into
 * the cache (outside git); resolves with the directory of its classes.
 */
export async function compileJava(source: string, classpath = ''): Promise<string> {
  const name = path.basename(source, '.java');
  const hash = createHash('sha1').update(fs.readFileSync(source)).update(classpath).digest('hex').slice(0, 12);
  const out = path.join(cacheDir(), `${name.toLowerCase()}-${hash}`);
  if (fs.existsSync(path.join(out, `${name}.class`))) return out;
  // Compile beside, then rename: parallel test processes may race here.
  const tmp = `${out}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await execFileP(javaBin('javac'), ['-nowarn', '--release', '17', ...(classpath ? ['-cp', classpath] : []), '-d', tmp, source]);
  try {
    fs.renameSync(tmp, out);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(out, `${name}.class`))) throw err;
  }
  return out;
}

let launcherDir: Promise<string> | undefined;

function compileLauncher(): Promise<string> {
  launcherDir ??= compileJava(launcherSource);
  launcherDir.catch(() => (launcherDir = undefined));
  return launcherDir;
}

/**
 * JVM flags tuned for start-up time rather than peak throughput: the brokers are small
 * and short-lived, and on 2 cores several of them may start together.
 */
export const defaultJvmArgs: readonly string[] = [
  '-Xms128m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-XX:-UsePerfData', // no hsperfdata files in /tmp
  '-Xshare:auto',
  '-Djava.awt.headless=true',
];

/**
 * Brokers also skip the C2 compiler: it starts them 35-45 % faster on 2 busy cores, and a
 * test broker's own CPU work is small. Flags in STREAMSAFE_KAFKA_JVM_OPTS (space separated)
 * come last and win, e.g. "-XX:TieredStopAtLevel=4 -Xmx2g" for benchmarks.
 */
export function brokerJvmArgs(): string[] {
  const extra = (process.env.STREAMSAFE_KAFKA_JVM_OPTS ?? '').split(/\s+/).filter(Boolean);
  return ['-XX:TieredStopAtLevel=1', ...extra];
}

export interface JavaSpawnOptions {
  /** Extra JVM flags, after the defaults (so they win). */
  jvmArgs?: string[];
  /** log4j2 configuration file; the quiet tools config by default. */
  log4jConfig?: string;
  /** Directory the JVM deletes if it finds itself orphaned. */
  cleanupDir?: string;
  /** More class directories or jars after the Kafka classpath (e.g. a test program from compileJava). */
  classpath?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: SpawnOptions['stdio'];
}

/** Starts `mainClass` with the Kafka classpath; the child is killed when this process exits. */
export async function javaSpawn(mainClass: string, args: string[], opts: JavaSpawnOptions = {}): Promise<ChildProcess> {
  const [cp, launcher] = await Promise.all([kafkaClasspath(), compileLauncher()]);
  const argv = [
    ...defaultJvmArgs,
    `-Dlog4j2.configurationFile=${opts.log4jConfig ?? toolsLog4jConfig}`,
    `-Dstreamsafe.parent.pid=${process.pid}`,
    ...(opts.cleanupDir ? [`-Dstreamsafe.cleanup=${opts.cleanupDir}`] : []),
    ...(opts.jvmArgs ?? []),
    '-cp',
    [launcher, cp, ...(opts.classpath ?? [])].join(path.delimiter),
    'StreamsafeLauncher',
    mainClass,
    ...args,
  ];
  const child = spawn(javaBin('java'), argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal Ctrl-C goes to the owner, which decides when its JVMs
    // stop (and can keep their logs first), instead of every JVM shutting down on its own.
    detached: true,
  });
  trackChild(child);
  return child;
}

export interface JavaRunOptions extends Omit<JavaSpawnOptions, 'stdio'> {
  /** Kill the JVM and reject after this long (default 120 s). */
  timeoutMs?: number;
  /** Written to the JVM's stdin, which is then closed. */
  input?: string | Buffer;
  /** Reject when the exit code is not 0 (default true). */
  check?: boolean;
}

export interface JavaRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `mainClass args...` with the Kafka classpath and collects its output. */
export async function javaRun(mainClass: string, args: string[], opts: JavaRunOptions = {}): Promise<JavaRunResult> {
  const child = await javaSpawn(mainClass, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => stdout.push(b));
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  child.stdin!.on('error', () => {}); // the JVM may exit without reading its input
  child.stdin!.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  }).finally(() => clearTimeout(timer));
  const result: JavaRunResult = {
    code,
    signal,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
  if (timedOut) throw new Error(`${mainClass} timed out after ${timeoutMs} ms\n${tail(result.stderr + result.stdout, 40)}`);
  if ((opts.check ?? true) && code !== 0) {
    throw new Error(`${mainClass} ${args.join(' ')} exited with ${code ?? signal}\n${tail(result.stderr + '\n' + result.stdout, 40)}`);
  }
  return result;
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

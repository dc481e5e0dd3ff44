// Resolves the Kafka jars (broker, tools, clients, log4j2 binding) from Maven
// Central with Maven, once, into a cache outside git, and returns the classpath.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const run = promisify(execFile);
const pom = path.join(__dirname, 'pom.xml');

export function cacheDir(): string {
  const base = process.env.STREAMSAFE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'streamsafe');
  fs.mkdirSync(base, { recursive: true });
  return base;
}

export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(pom, 'utf8'));
  if (!m) throw new Error('kafka.version missing in ' + pom);
  return m[1];
}

let pending: Promise<string> | undefined;

/** The Java classpath of the Kafka runtime; resolves with Maven on first use. */
export function kafkaClasspath(): Promise<string> {
  pending ??= resolveClasspath();
  return pending;
}

async function resolveClasspath(): Promise<string> {
  const pomText = fs.readFileSync(pom, 'utf8');
  // The cache key follows the pom, so a version bump resolves again.
  const key = require('node:crypto').createHash('sha1').update(pomText).digest('hex').slice(0, 12);
  const out = path.join(cacheDir(), `kafka-classpath-${key}.txt`);
  if (fs.existsSync(out)) {
    const cp = fs.readFileSync(out, 'utf8').trim();
    if (cp.split(path.delimiter).every((jar) => fs.existsSync(jar))) return cp;
  }
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await run('mvn', ['-q', '-B', '-f', pom, 'dependency:build-classpath', `-Dmdep.outputFile=${tmp}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    // Maven reports its errors on stdout; without them the failure says nothing.
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`resolving the Kafka jars with Maven (${pom}) failed: ${e.message.split('\n')[0]}\n${output}`);
  }
  fs.renameSync(tmp, out);
  return fs.readFileSync(out, 'utf8').trim();
}

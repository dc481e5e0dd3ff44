// The Kafka jars for the demo, with progress: the tests' own resolver
// (test/support/kafka/classpath.ts: Maven into ~/.m2, the classpath cached in
// ~/.cache/streamsafe) does the work; this watches Maven's local repository grow
// while it runs, so a first run's ~70 MB download is not minutes of silence.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const pom = path.join(root, 'test', 'support', 'kafka', 'pom.xml');

function kafkaVersion() {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(pom, 'utf8'));
  return m ? m[1] : '4.x';
}

/** Where Maven puts what it downloads: -Dmaven.repo.local, settings.xml's localRepository, or ~/.m2/repository. */
function mavenRepository() {
  const flags = `${process.env.MAVEN_OPTS || ''} ${process.env.MAVEN_ARGS || ''}`;
  const m = /-Dmaven\.repo\.local=(\S+)/.exec(flags);
  if (m) return path.resolve(m[1]);
  try {
    const settings = fs.readFileSync(path.join(os.homedir(), '.m2', 'settings.xml'), 'utf8');
    const local = /<localRepository>\s*([^<]+?)\s*<\/localRepository>/.exec(settings);
    if (local) return path.resolve(local[1].replace(/\$\{user\.home\}/g, os.homedir()));
  } catch {
    // no settings.xml: Maven's default
  }
  return path.join(os.homedir(), '.m2', 'repository');
}

/** Files and bytes under `dir` (0 when it does not exist yet). */
function usage(dir) {
  let files = 0;
  let bytes = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          bytes += fs.statSync(p).size;
          files++;
        } catch {
          // renamed or removed by Maven meanwhile
        }
      }
    }
  }
  return { files, bytes };
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const tilde = (p) => (p.startsWith(os.homedir() + path.sep) ? `~${p.slice(os.homedir().length)}` : p);

/**
 * Resolves the Kafka classpath. When that takes more than a moment (Maven runs: the first
 * run), says so and logs what Maven has fetched every `everyMs` (3 s).
 */
async function ensureKafkaJars(log, { everyMs = 3000 } = {}) {
  // The resolver is TypeScript; tsx (a devDependency, installed by now) loads it.
  const tsx = require('tsx/cjs/api');
  const { kafkaClasspath } = tsx.require(path.join(root, 'test', 'support', 'kafka', 'classpath.ts'), __filename);
  const started = Date.now();
  let settled = false;
  const work = kafkaClasspath().finally(() => (settled = true));
  await Promise.race([work.catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  if (settled) return work;

  const repo = mavenRepository();
  const before = usage(repo);
  log(`fetching Kafka ${kafkaVersion()} jars with Maven (first run only, ~70 MB into ${tilde(repo)})…`);
  let last = 0;
  const timer = setInterval(() => {
    const now = usage(repo);
    const bytes = now.bytes - before.bytes;
    if (bytes === last) return;
    last = bytes;
    log(`  … ${mb(bytes)} in ${now.files - before.files} files so far (${Math.round((Date.now() - started) / 1000)} s)`);
  }, everyMs);
  try {
    const cp = await work;
    const now = usage(repo);
    log(`Kafka jars ready: ${mb(now.bytes - before.bytes)} in ${now.files - before.files} files fetched in ${Math.round((Date.now() - started) / 1000)} s (kept in ${tilde(repo)} for next runs)`);
    return cp;
  } finally {
    clearInterval(timer);
  }
}

module.exports = { ensureKafkaJars, kafkaVersion, mavenRepository };

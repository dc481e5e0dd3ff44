// What `npm start` needs before it can run, checked up front so that a newcomer gets a
// sentence saying what is missing and how to get it, never a bare exit code:
// Node.js 20+, the npm packages (installed here with `npm ci` when node_modules lacks
// them), a JDK 17+ and Maven (the embedded Kafka broker), and a free HTTP port.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const root = path.resolve(__dirname, '..');

/** '' when this Node.js is recent enough, else what to do. */
function nodeProblem(minMajor = 20) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= minMajor) return '';
  return `Node.js ${minMajor} or later is needed (this is ${process.version}): install it from https://nodejs.org or with your package manager, then run npm start again.`;
}

/** Dependencies and devDependencies of package.json that node_modules lacks. */
function missingPackages(dir = root) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return names.filter((name) => !fs.existsSync(path.join(dir, 'node_modules', name, 'package.json')));
}

/** argv to run npm: the npm that runs us (npm start) when there is one, else the one on PATH. */
function npmCommand(args) {
  const npmCli = process.env.npm_execpath;
  if (npmCli && /npm-cli\.js$/.test(npmCli)) return [process.execPath, [npmCli, ...args]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
}

/**
 * Installs the packages when node_modules lacks any (as .ci/run does: `npm ci` from the
 * lock file; `npm install` without one). npm's `prepare` builds dist/ on the way.
 * Returns true when it installed, false when nothing was missing; throws with the reason.
 */
function ensurePackages(log, dir = root) {
  const missing = missingPackages(dir);
  if (missing.length === 0) return false;
  const ci = fs.existsSync(path.join(dir, 'package-lock.json'));
  const args = ci ? ['ci', '--prefer-offline', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  const shown = missing.length > 4 ? `${missing.slice(0, 4).join(', ')} and ${missing.length - 4} more` : missing.join(', ');
  log(`node_modules lacks ${shown}: running \`npm ${args.join(' ')}\` (first run only; it also builds the package)`);
  const [cmd, argv] = npmCommand(args);
  const started = Date.now();
  const r = spawnSync(cmd, argv, { cwd: dir, stdio: 'inherit' });
  if (r.error) throw new Error(`could not run npm (${r.error.message}): install Node.js with npm, then run \`npm ci\` here`);
  if (r.status !== 0) throw new Error(`\`npm ${args.join(' ')}\` failed (exit ${r.status}); its errors are above. Fix them and run npm start again.`);
  log(`installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return true;
}

const JDK_HINT =
  'install a JDK 17 or later: `sudo apt-get install openjdk-17-jdk-headless` (Debian/Ubuntu), ' +
  '`sudo dnf install java-17-openjdk-devel` (Fedora), `brew install openjdk@17` (macOS), or https://adoptium.net; ' +
  'or set JAVA_HOME to one';
const MAVEN_HINT = 'install Maven: `sudo apt-get install maven` (Debian/Ubuntu), `sudo dnf install maven` (Fedora), `brew install maven` (macOS), or https://maven.apache.org/install.html';

function javaBin(name) {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', name) : name;
}

/** The `java -version` major version, or undefined when java cannot run. */
function javaMajor() {
  const r = spawnSync(javaBin('java'), ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return undefined;
  // "1.8.0_392" is Java 8.
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

function onPath(cmd) {
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['.cmd', '.bat', '.exe', ''] : [''];
  return dirs.some((d) => exts.some((e) => {
    try {
      fs.accessSync(path.join(d, cmd + e), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
}

/** Sentences saying what the embedded Kafka broker lacks (Java 17+ with javac, Maven); empty when nothing. */
function javaProblems() {
  const problems = [];
  const major = javaMajor();
  if (major === undefined) {
    const where = process.env.JAVA_HOME ? `JAVA_HOME=${process.env.JAVA_HOME} has no working bin/java` : 'Java was not found (java is not on PATH)';
    problems.push(`${where}: the embedded Kafka broker needs Java 17; ${JDK_HINT}.`);
  } else if (major < 17) problems.push(`Java ${major} was found; Kafka 4 needs Java 17 or later: ${JDK_HINT}.`);
  else if (spawnSync(javaBin('javac'), ['-version']).status !== 0) problems.push(`javac was not found: the Kafka launcher is compiled once, so a JDK (not only a JRE) is needed: ${JDK_HINT}.`);
  if (!onPath('mvn')) problems.push(`Maven (mvn) was not found: it fetches the Kafka jars from Maven Central on the first run; ${MAVEN_HINT}.`);
  return problems;
}

/** Resolves true when `port` can be listened on at `host`. */
function portFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The first free port after `port` (up to 50 further), or undefined. */
async function nextFreePort(port, host = '127.0.0.1') {
  for (let p = port + 1; p <= Math.min(port + 50, 65535); p++) if (await portFree(p, host)) return p;
  return undefined;
}

module.exports = { nodeProblem, missingPackages, ensurePackages, javaProblems, portFree, nextFreePort, npmCommand };

// A throwaway CA and a broker certificate for the SASL_SSL test broker, made with the
// openssl CLI. Kafka reads PEM directly (ssl.keystore.type=PEM), so no JKS/keytool step.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  caPem: string;
  /** CA certificate (PEM): the only thing a client needs to trust the broker. */
  caFile: string;
  /** Broker key (unencrypted PKCS#8) followed by its certificate chain, for ssl.keystore.type=PEM. */
  keystoreFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

/** Creates a CA and a broker certificate valid for 127.0.0.1 and localhost in `dir`. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  fs.mkdirSync(dir, { recursive: true });
  const days = '7';
  await openssl(
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', days,
      '-keyout', 'ca.key', '-out', 'ca.pem',
      '-subj', '/CN=streamsafe throwaway test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'],
    dir,
  );
  // Clients check the SAN, not the CN: both the IP the broker advertises and the name.
  fs.writeFileSync(
    path.join(dir, 'broker.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-sha256', '-days', days,
      '-set_serial', '0x' + randomBytes(8).toString('hex'), '-extfile', 'broker.ext', '-out', 'broker.pem',
    ],
    dir,
  );
  const caFile = path.join(dir, 'ca.pem');
  const caPem = fs.readFileSync(caFile, 'utf8');
  const keystoreFile = path.join(dir, 'broker-keystore.pem');
  fs.writeFileSync(
    keystoreFile,
    fs.readFileSync(path.join(dir, 'broker.key'), 'utf8') + fs.readFileSync(path.join(dir, 'broker.pem'), 'utf8') + caPem,
  );
  fs.rmSync(path.join(dir, 'ca.key')); // nobody should sign anything else with it
  return { caPem, caFile, keystoreFile };
}

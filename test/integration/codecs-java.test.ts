// Cross-checks src/lib/kafka/codecs against the Java client itself
// (test/support/java/CodecCheck.java, kafka-clients 4.3.1's
// Compression.wrapForOutput / wrapForInput for a v2 batch, i.e. lz4-java,
// snappy-java, zstd-jni and java.util.zip as the producer, broker and
// consumer use them), in both directions, for gzip, snappy, lz4 and zstd:
//
//   JS compresses  -> Java decompresses and compares the bytes
//   Java compresses -> JS decompresses and compares the bytes
//
// Two negative controls show the check can fail: Kafka must reject lz4js's own
// frame (dependent blocks) and, with liblz4 through JNI, a full 64 KiB lz4js
// block whose last match starts fewer than 12 bytes before its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CompressionCodecs } from 'kafkajs';
import { kafkaClasspath } from '../support/kafka/classpath';
import { compileJava } from '../support/kafka/java';
import { compressionType, registerKafkajsCodecs, type CompressionName, type KafkaCodec } from '../../src/lib/kafka/codecs';
import { randomBytes, wordSoup } from '../support/payloads';

const run = promisify(execFile);
const SOURCE = path.join(__dirname, '..', 'support', 'java', 'CodecCheck.java');
const LOG4J = path.join(__dirname, '..', 'support', 'kafka', 'log4j2-tools.properties');
const CODECS: CompressionName[] = ['gzip', 'snappy', 'lz4', 'zstd'];

const lz4js = require('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, table: Uint32Array): number;
};
const xxh32 = (require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number }).hash;
const rawSnappy = (require('kafkajs-snappy') as () => KafkaCodec)();

// ---------------------------------------------------------------------------
// Payloads


function tweet(i: number): Record<string, unknown> {
  return {
    data: {
      id: String(1790000000000000000n + BigInt(i) * 7919n),
      text: `카프카로 스트리밍하는 트윗 #${i} 🚀🔥 실시간 데이터 파이프라인 테스트 중입니다 https://t.co/${((i * 2654435761) >>> 0).toString(36)} 😀👍`,
      lang: i % 3 ? 'ko' : 'en',
      author_id: String(1000 + (i % 97)),
      created_at: new Date(Date.UTC(2024, 4, 1, 12, 0, i % 60)).toISOString(),
      public_metrics: { retweet_count: i % 13, reply_count: i % 5, like_count: (i * 7) % 101, quote_count: 0 },
      entities: { hashtags: [{ start: 17, end: 20, tag: '데이터' }] },
    },
    matching_rules: [{ id: '1790000000000000042', tag: 'kafka 한국어' }],
  };
}

function tweetsJson(n: number): Buffer {
  const lines: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const line = JSON.stringify(tweet(i));
    lines.push(line);
    len += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(lines.join('\n')).subarray(0, n);
}

function oneTweet(): Buffer {
  // about 1 KB: one tweet plus its expansions
  const t = tweet(7) as { data: Record<string, unknown> };
  return Buffer.from(JSON.stringify({ ...t, includes: { users: [{ id: '1007', name: '스트림세이프 🐘', username: 'streamsafe', description: '카프카와 노드레드 🚀 '.repeat(8) }] } }));
}

const PAYLOADS: [string, Buffer][] = [
  ['small-json', Buffer.from(JSON.stringify({ hello: 'world', n: 42, ok: true }))],
  ['tweet-1kb', oneTweet()],
  ['tweets-1.1mb', tweetsJson(1_100_000)], // over zstd-wasm's 1 MiB default output
  ['wordsoup-4mb', wordSoup(4 * 1024 * 1024, 11)],
  ['exactly-64kib', wordSoup(64 * 1024, 3)],
  ['empty', Buffer.alloc(0)],
  ['random-512kb', randomBytes(512 * 1024, 99)],
];

/** A single 64 KiB lz4js block whose last match starts < 12 bytes before its end, framed as Kafka would. */
function lz4jsLateMatchFrame(): { raw: Buffer; frame: Buffer } {
  for (let seed = 1; seed < 1000; seed++) {
    const raw = wordSoup(65536, seed);
    const dst = new Uint8Array(70000);
    const n = lz4js.compressBlock(raw, dst, 0, raw.length, new Uint32Array(1 << 16));
    const block = Buffer.from(dst.subarray(0, n));
    // find where the last match starts in the output
    let s = 0;
    let d = 0;
    let last = -1;
    while (s < n) {
      const token = block[s++];
      let lit = token >> 4;
      if (lit === 15) for (let b = 255; b === 255; lit += b) b = block[s++];
      s += lit;
      d += lit;
      if (s >= n) break;
      s += 2;
      let ml = token & 15;
      if (ml === 15) for (let b = 255; b === 255; ml += b) b = block[s++];
      last = d;
      d += ml + 4;
    }
    if (last > 65536 - 12) {
      const head = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]);
      head[6] = (xxh32(0, head, 4, 2) >>> 8) & 0xff;
      const size = Buffer.alloc(4);
      size.writeUInt32LE(n);
      return { raw, frame: Buffer.concat([head, size, block, Buffer.alloc(4)]) };
    }
  }
  throw new Error('no late-match block found');
}

// ---------------------------------------------------------------------------
// Java


interface JobResult {
  status: 'OK' | 'FAIL' | 'MISMATCH';
  detail: string;
}

// ---------------------------------------------------------------------------

test('codecs agree with the Java client (kafka-clients) in both directions', { timeout: 300_000 }, async (t) => {
  await registerKafkajsCodecs();
  const codec = (name: CompressionName): KafkaCodec =>
    (CompressionCodecs as unknown as Record<number, () => KafkaCodec>)[compressionType(name)]();

  const classpath = await kafkaClasspath();
  const classes = await compileJava(SOURCE, classpath);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'codecs-java-'));
  t.after(() => fs.rmSync(work, { recursive: true, force: true }));
  const file = (name: string) => path.join(work, name);

  const jobs: string[] = [];
  const add = (...fields: string[]): number => jobs.push(fields.join('\t')); // 1-based job number
  const jsToJava: { codec: CompressionName; payload: string; job: number; frameBytes: number }[] = [];
  const javaToJs: { codec: CompressionName; payload: string; job: number }[] = [];

  for (const [name, raw] of PAYLOADS) fs.writeFileSync(file(`${name}.raw`), raw);
  for (const c of CODECS) {
    for (const [name, raw] of PAYLOADS) {
      const frame = await codec(c).compress({ buffer: raw });
      fs.writeFileSync(file(`${name}.${c}.js`), frame);
      const job = add('decompress', c, file(`${name}.${c}.js`), file(`${name}.${c}.js.out`), file(`${name}.raw`));
      jsToJava.push({ codec: c, payload: name, job, frameBytes: frame.length });
      javaToJs.push({ codec: c, payload: name, job: add('compress', c, file(`${name}.raw`), file(`${name}.${c}.java`)) });
    }
  }
  // What plain kafkajs-snappy sends (one raw block, no xerial framing).
  const tweetRaw = PAYLOADS[1][1];
  fs.writeFileSync(file('tweet.snappy-raw'), await rawSnappy.compress({ buffer: tweetRaw }));
  const rawSnappyJob = add('decompress', 'snappy', file('tweet.snappy-raw'), file('tweet.snappy-raw.out'), file('tweet-1kb.raw'));
  // Negative controls.
  fs.writeFileSync(file('tweet.lz4js'), lz4js.compress(tweetRaw));
  const lz4jsFrameJob = add('decompress', 'lz4', file('tweet.lz4js'), file('tweet.lz4js.out'), file('tweet-1kb.raw'));
  const late = lz4jsLateMatchFrame();
  fs.writeFileSync(file('late.raw'), late.raw);
  fs.writeFileSync(file('late.lz4'), late.frame);
  const lateJob = add('decompress', 'lz4', file('late.lz4'), file('late.out'), file('late.raw'));
  fs.writeFileSync(file('jobs.tsv'), jobs.join('\n') + '\n');

  const started = Date.now();
  const { stdout, stderr } = await run(
    'java',
    [
      '-Xshare:auto',
      '-Xmx512m',
      ...(fs.existsSync(LOG4J) ? [`-Dlog4j2.configurationFile=${LOG4J}`] : []),
      '-cp',
      `${classpath}${path.delimiter}${classes}`,
      'CodecCheck',
      file('jobs.tsv'),
    ],
    { maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
  );
  const results = new Map<number, JobResult>();
  let lz4Impl = '?';
  for (const line of stdout.split('\n')) {
    const [status, n, , , detail] = line.split('\t');
    if (status === 'INFO') lz4Impl = detail;
    else if (status === 'OK' || status === 'FAIL' || status === 'MISMATCH') results.set(Number(n), { status, detail });
  }
  t.diagnostic(`Java ran ${jobs.length} jobs in ${Date.now() - started} ms; lz4-java implementation: ${lz4Impl}`);
  assert.equal(results.size, jobs.length, `Java answered ${results.size} of ${jobs.length} jobs\n${stderr}\n${stdout}`);
  const result = (job: number): JobResult => results.get(job)!;

  for (const { codec: c, payload, job, frameBytes } of jsToJava) {
    await t.test(`${c} ${payload}: Java decompresses ours`, () => {
      const r = result(job);
      assert.equal(r.status, 'OK', `${r.status}: ${r.detail}`);
      assert.equal(r.detail, `${frameBytes} -> ${fs.statSync(file(`${payload}.raw`)).size}`);
      assert.ok(fs.readFileSync(file(`${payload}.${c}.js.out`)).equals(fs.readFileSync(file(`${payload}.raw`))));
    });
  }

  for (const { codec: c, payload, job } of javaToJs) {
    await t.test(`${c} ${payload}: we decompress Java's`, async () => {
      const r = result(job);
      assert.equal(r.status, 'OK', `Java could not compress: ${r.detail}`);
      const frame = fs.readFileSync(file(`${payload}.${c}.java`));
      const out = await codec(c).decompress(frame);
      const raw = fs.readFileSync(file(`${payload}.raw`));
      assert.equal(out.length, raw.length);
      assert.ok(out.equals(raw), 'bytes differ');
    });
  }

  await t.test('Java frame details we rely on', () => {
    // zstd-jni's streaming frames carry no content size (FHD FCS flag 0,
    // not single-segment), which is why zstd-wasm needs an explicit capacity.
    const zstd = fs.readFileSync(file('wordsoup-4mb.zstd.java'));
    assert.equal(zstd.readUInt32LE(0), 0xfd2fb528);
    assert.equal(zstd[4] & 0xe0, 0, `Java zstd FHD 0x${zstd[4].toString(16)}`);
    // Kafka's LZ4 frame: FLG 0x60, BD 0x40, as ours.
    const lz4 = fs.readFileSync(file('tweet-1kb.lz4.java'));
    assert.deepEqual(lz4.subarray(0, 7), fs.readFileSync(file('tweet-1kb.lz4.js')).subarray(0, 7));
    // snappy-java's xerial header, as ours.
    const snappy = fs.readFileSync(file('tweet-1kb.snappy.java'));
    assert.deepEqual(snappy.subarray(0, 16), fs.readFileSync(file('tweet-1kb.snappy.js')).subarray(0, 16));
  });

  await t.test('Java reads plain kafkajs-snappy output (raw snappy, no framing)', () => {
    const r = result(rawSnappyJob);
    assert.equal(r.status, 'OK', r.detail);
  });

  await t.test('control: Kafka rejects lz4js.compress() output (dependent blocks)', () => {
    const r = result(lz4jsFrameJob);
    assert.equal(r.status, 'FAIL');
    assert.match(r.detail, /Dependent block stream is unsupported/);
  });

  await t.test('control: liblz4 rejects a full 64 KiB lz4js block with a match inside the last 12 bytes', (tt) => {
    const r = result(lateJob);
    if (!/JNI/.test(lz4Impl)) {
      tt.skip(`lz4-java uses ${lz4Impl}, not liblz4 through JNI (result: ${r.status} ${r.detail})`);
      return;
    }
    assert.equal(r.status, 'FAIL', `expected liblz4 to reject the block: ${r.detail}`);
    assert.match(r.detail, /LZ4Exception/);
  });
});

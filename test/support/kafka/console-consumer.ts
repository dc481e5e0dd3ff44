// An independent reader: Kafka's own Java ConsoleConsumer (kafka-tools jar), not our code
// and not kafkajs, reads a topic back so tests can check what the brokers really stored.
import { javaRun } from './java';

export const CONSOLE_CONSUMER_CLASS = 'org.apache.kafka.tools.consumer.ConsoleConsumer';
export const GET_OFFSET_SHELL_CLASS = 'org.apache.kafka.tools.GetOffsetShell';

/**
 * DefaultMessageFormatter settings (checked against Kafka 4.3 output). It prints
 * `Partition:<p><sep>Offset:<o><sep><key><sep><value><end>` with raw UTF-8 bytes for key and
 * value, and null.literal for a null key or value ("null" by default, which a record with
 * the text "null" would also print). Control characters that test data never contains keep
 * the fields apart; a key or value containing one of them makes the parse fail loudly.
 */
export const CONSOLE_FIELD_SEPARATOR = '\u001f'; // unit separator
export const CONSOLE_RECORD_END = '\u001e\n'; // record separator; the newline keeps the raw output readable
export const CONSOLE_NULL = '\u0015null\u0015'; // NAK-wrapped: no test key or value is this

export interface ConsoleRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
}

export interface ConsoleConsumeOptions {
  /**
   * Stop after this many records (--max-messages). 'all': the number of records between the
   * earliest and latest offsets of every partition when the call starts (GetOffsetShell),
   * so duplicates past an expected count are read too; exact for topics without
   * transaction markers or compaction, else the idle timeout ends the read.
   * Without it, the read ends only when idle.
   */
  expected?: number | 'all';
  /** Kill the JVM and reject after this long (default 120 s). */
  timeoutMs?: number;
  /** End when no record arrived for this long (--timeout-ms, default 10 s); it includes joining the group. */
  idleMs?: number;
  /** Extra consumer properties (--command-property), e.g. isolation.level=read_committed. */
  consumerProperties?: Record<string, string>;
}

/** Splits ConsoleConsumer stdout written with the settings above into records. */
export function parseConsoleOutput(stdout: string): ConsoleRecord[] {
  const chunks = stdout.split(CONSOLE_RECORD_END);
  const rest = chunks.pop();
  if (rest !== '') throw new Error(`ConsoleConsumer output does not end with a whole record: ${JSON.stringify(rest?.slice(0, 200))}`);
  return chunks.map((chunk, i) => {
    const fields = chunk.split(CONSOLE_FIELD_SEPARATOR);
    const p = /^Partition:(\d+)$/.exec(fields[0] ?? '');
    const o = /^Offset:(\d+)$/.exec(fields[1] ?? '');
    if (fields.length !== 4 || !p || !o) {
      throw new Error(
        `ConsoleConsumer record ${i} does not parse (a key or value with U+001E/U+001F?): ${JSON.stringify(chunk.slice(0, 200))}`,
      );
    }
    const text = (s: string): string | null => (s === CONSOLE_NULL ? null : s);
    return { partition: Number(p[1]), offset: o[1], key: text(fields[2]), value: text(fields[3]) };
  });
}

export interface PartitionOffsets {
  partition: number;
  /** Log start offset. */
  earliest: string;
  /** Log end offset (high watermark): the offset the next record gets. */
  latest: string;
}

/** Earliest and latest offsets of each partition of `topic`, from Kafka's GetOffsetShell. */
export async function topicOffsets(brokers: string[], topic: string, opts: { timeoutMs?: number } = {}): Promise<PartitionOffsets[]> {
  const at = async (time: '-1' | '-2'): Promise<Map<number, string>> => {
    const out = await javaRun(GET_OFFSET_SHELL_CLASS, ['--bootstrap-server', brokers.join(','), '--topic', topic, '--time', time], {
      timeoutMs: opts.timeoutMs ?? 60_000,
      jvmArgs: ['-XX:TieredStopAtLevel=1'],
    });
    const byPartition = new Map<number, string>();
    // Lines are topic:partition:offset; --topic is a regex, so keep only this exact topic.
    for (const line of out.stdout.split('\n')) {
      const m = /^(.*):(\d+):(\d+)$/.exec(line.trim());
      if (m && m[1] === topic) byPartition.set(Number(m[2]), m[3]);
    }
    return byPartition;
  };
  const [latest, earliest] = await Promise.all([at('-1'), at('-2')]);
  return [...latest.keys()]
    .sort((a, b) => a - b)
    .map((partition) => ({ partition, earliest: earliest.get(partition) ?? '0', latest: latest.get(partition)! }));
}

/**
 * Reads `topic` from the beginning with ConsoleConsumer (a fresh consumer group) and
 * returns its records in the order printed (offset order within each partition). Resolves
 * with fewer than `expected` records if the read went idle first: callers compare.
 */
export async function consoleConsume(brokers: string[], topic: string, opts: ConsoleConsumeOptions = {}): Promise<ConsoleRecord[]> {
  let expected = opts.expected;
  if (expected === 'all') {
    const offsets = await topicOffsets(brokers, topic, { timeoutMs: opts.timeoutMs });
    expected = Number(offsets.reduce((sum, p) => sum + BigInt(p.latest) - BigInt(p.earliest), 0n));
  }
  if (expected !== undefined && !(Number.isInteger(expected) && expected >= 0)) {
    throw new Error(`expected must be a non-negative integer or 'all', got ${String(opts.expected)}`);
  }
  const idleMs = opts.idleMs ?? 10_000;
  const formatter = {
    'print.partition': 'true',
    'print.offset': 'true',
    'print.key': 'true',
    'print.value': 'true',
    'print.timestamp': 'false',
    'key.separator': CONSOLE_FIELD_SEPARATOR,
    'line.separator': CONSOLE_RECORD_END,
    'null.literal': CONSOLE_NULL,
  };
  const args = [
    '--bootstrap-server', brokers.join(','),
    '--topic', topic,
    '--from-beginning',
    '--timeout-ms', String(idleMs),
    ...Object.entries(formatter).flatMap(([k, v]) => ['--formatter-property', `${k}=${v}`]),
    ...Object.entries(opts.consumerProperties ?? {}).flatMap(([k, v]) => ['--command-property', `${k}=${v}`]),
    // --max-messages 0 would read nothing; an expected empty topic is confirmed by going idle.
    ...(expected ? ['--max-messages', String(expected)] : []),
  ];
  // Going idle is logged as an ERROR (TimeoutException) but exits 0; other failures exit non-zero.
  const out = await javaRun(CONSOLE_CONSUMER_CLASS, args, {
    timeoutMs: opts.timeoutMs ?? 120_000,
    jvmArgs: ['-XX:TieredStopAtLevel=1'], // start-up dominates a test-sized read
  });
  const records = parseConsoleOutput(out.stdout);
  // The tool counts what it printed: a mismatch means the parse above lost or invented records.
  const total = /Processed a total of (\d+) messages/.exec(out.stderr);
  if (!total) throw new Error(`ConsoleConsumer did not report its message count:\n${out.stderr.slice(-2000)}`);
  if (Number(total[1]) !== records.length) {
    throw new Error(`ConsoleConsumer printed ${total[1]} messages, parsed ${records.length}`);
  }
  return records;
}

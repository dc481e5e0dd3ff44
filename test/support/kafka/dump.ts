// Reads what the broker actually stored, with Kafka's own DumpLogSegments tool: the only
// independent check of batch-level facts a client can't see (codec, producer id/epoch,
// base sequence, records per batch).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { javaRun } from './java';

/** The DumpLogSegments main class moved from kafka.tools (Scala) to org.apache.kafka.tools. */
export const DUMP_LOG_SEGMENTS_CLASS = 'org.apache.kafka.tools.DumpLogSegments';

export interface RecordInfo {
  offset: number;
  /** CreateTime or LogAppendTime, per the batch's timestampType. */
  timestamp: number;
  keySize: number;
  valueSize: number;
  sequence: number;
  headerKeys: string[];
  /** Decoded as UTF-8 by the tool; null when the key is null; undefined without printData. */
  key?: string | null;
  payload?: string | null;
  /** Control records (transaction markers) only. */
  endTxnMarker?: string;
  coordinatorEpoch?: number;
  /** Every `name: value` field of the line as printed. */
  fields: Record<string, string>;
}

export interface BatchInfo {
  /** Segment file the batch was read from. */
  file: string;
  baseOffset: number;
  lastOffset: number;
  count: number;
  baseSequence: number;
  lastSequence: number;
  producerId: number;
  producerEpoch: number;
  partitionLeaderEpoch: number;
  isTransactional: boolean;
  isControl: boolean;
  position: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  maxTimestamp: number;
  size: number;
  magic: number;
  /** none | gzip | snappy | lz4 | zstd */
  compresscodec: string;
  crc: number;
  isvalid: boolean;
  records: RecordInfo[];
  /** Every `name: value` field of the batch line as printed. */
  fields: Record<string, string>;
}

export interface DumpLogSegmentsOptions {
  /** Print and parse keys and payloads (default true). */
  printData?: boolean;
  timeoutMs?: number;
}

const num = (v: string | undefined): number => (v === undefined ? NaN : Number(v));

/** Leading `name: value` pairs of a line; stops at key:/payload:, whose values may hold spaces. */
function leadingFields(text: string): { fields: Record<string, string>; rest: string } {
  const fields: Record<string, string> = {};
  let rest = text;
  for (;;) {
    if (/^(key|payload): /.test(rest)) break;
    const m = /^(\w+): (\[[^\]]*\]|\S+) ?/.exec(rest);
    if (!m) break;
    fields[m[1]] = m[2];
    rest = rest.slice(m[0].length);
  }
  return { fields, rest };
}

function parseRecord(line: string): RecordInfo {
  const { fields, rest } = leadingFields(line.replace(/^\|\s*/, ''));
  const keySize = num(fields.keySize);
  const valueSize = num(fields.valueSize);
  const timestamp = num(fields.CreateTime ?? fields.LogAppendTime);
  const headers = fields.headerKeys ?? '[]';
  const record: RecordInfo = {
    offset: num(fields.offset),
    timestamp,
    keySize,
    valueSize,
    sequence: num(fields.sequence),
    headerKeys: headers === '[]' ? [] : headers.slice(1, -1).split(','),
    fields,
  };
  if (fields.endTxnMarker !== undefined) {
    record.endTxnMarker = fields.endTxnMarker;
    record.coordinatorEpoch = num(fields.coordinatorEpoch);
  }
  let text = rest;
  if (text.startsWith('key: ')) {
    text = text.slice('key: '.length);
    // The key may contain ' payload: ' itself: prefer its printed byte size to find the end.
    let end = -1;
    if (keySize >= 0) {
      const bytes = Buffer.from(text, 'utf8');
      const cut = bytes.subarray(0, keySize).toString('utf8');
      if (text.startsWith(cut) && text.slice(cut.length).match(/^( payload: |$)/)) end = cut.length;
    }
    if (end < 0) end = text.indexOf(' payload: ') >= 0 ? text.indexOf(' payload: ') : text.length;
    record.key = text.slice(0, end);
    text = text.slice(end).replace(/^ /, '');
  } else if (keySize < 0 && /^payload: /.test(text)) {
    record.key = null;
  }
  if (text.startsWith('payload: ')) record.payload = text.slice('payload: '.length);
  else if (valueSize < 0 && record.key !== undefined) record.payload = null;
  return record;
}

function parseBatch(line: string, file: string): BatchInfo {
  const fields: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+): (\S+)/g)) fields[m[1]] = m[2];
  const timestampType = fields.LogAppendTime !== undefined ? 'LogAppendTime' : 'CreateTime';
  return {
    file,
    baseOffset: num(fields.baseOffset),
    lastOffset: num(fields.lastOffset),
    count: num(fields.count),
    baseSequence: num(fields.baseSequence),
    lastSequence: num(fields.lastSequence),
    producerId: num(fields.producerId),
    producerEpoch: num(fields.producerEpoch),
    partitionLeaderEpoch: num(fields.partitionLeaderEpoch),
    isTransactional: fields.isTransactional === 'true',
    isControl: fields.isControl === 'true',
    position: num(fields.position),
    timestampType,
    maxTimestamp: num(fields[timestampType]),
    size: num(fields.size),
    magic: num(fields.magic),
    compresscodec: fields.compresscodec ?? 'unknown',
    crc: num(fields.crc),
    isvalid: fields.isvalid === 'true',
    records: [],
    fields,
  };
}

/** Parses `DumpLogSegments --deep-iteration [--print-data-log]` output. */
export function parseDumpLogSegments(output: string): BatchInfo[] {
  const batches: BatchInfo[] = [];
  let file = '';
  let lastRecord: RecordInfo | undefined;
  const incomplete = (r: RecordInfo | undefined): r is RecordInfo =>
    !!r && typeof r.payload === 'string' && r.valueSize >= 0 && Buffer.byteLength(r.payload, 'utf8') < r.valueSize;
  for (const line of output.split('\n')) {
    // A payload with newlines continues on the following lines until it has valueSize bytes.
    if (incomplete(lastRecord)) {
      lastRecord.payload += '\n' + line;
      continue;
    }
    if (line.startsWith('Dumping ')) {
      file = line.slice('Dumping '.length).trim();
      lastRecord = undefined;
    } else if (line.startsWith('baseOffset: ')) {
      batches.push(parseBatch(line, file));
      lastRecord = undefined;
    } else if (line.startsWith('| ') && batches.length > 0) {
      lastRecord = parseRecord(line);
      batches[batches.length - 1].records.push(lastRecord);
    }
  }
  return batches;
}

/**
 * Runs DumpLogSegments over every .log segment of `topic`-`partition` under the broker data
 * dir `logDir` (a KafkaHandle.logDirs entry) and returns its batches in offset order.
 */
export async function dumpLogSegments(
  logDir: string,
  topic: string,
  partition = 0,
  opts: DumpLogSegmentsOptions = {},
): Promise<BatchInfo[]> {
  const dir = path.join(logDir, `${topic}-${partition}`);
  if (!fs.existsSync(dir)) {
    const here = fs.existsSync(logDir)
      ? fs.readdirSync(logDir).filter((d) => /-\d+$/.test(d) && !d.startsWith('__')).join(', ')
      : '(log dir missing)';
    throw new Error(`no partition dir ${dir} (is this broker a replica of ${topic}-${partition}?); partitions here: ${here}`);
  }
  const segments = fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  if (segments.length === 0) return [];
  const args = ['--files', segments.join(','), '--deep-iteration'];
  if (opts.printData ?? true) args.push('--print-data-log');
  const { stdout } = await javaRun(DUMP_LOG_SEGMENTS_CLASS, args, {
    timeoutMs: opts.timeoutMs ?? 120_000,
    jvmArgs: ['-XX:TieredStopAtLevel=1'], // short-lived: the C2 compiler would only cost time
  });
  return parseDumpLogSegments(stdout).sort((a, b) => a.baseOffset - b.baseOffset);
}

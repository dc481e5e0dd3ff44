// One batch of records for one partition, as the Java client's ProducerBatch:
// it fills up to batch.size while it waits (linger.ms), then goes out as one
// record batch of one Produce request. Once sent it is resent as it is (same
// records, same sequence numbers) until the broker settles it, so that an
// idempotent broker recognises a resend.

import type { ProducerRecord } from '../record';
import type { EncodedBatch } from '../protocol/record-batch';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** null when the broker sends no offset (acks=0, or a resend it recognised but no longer has the offset of) */
  offset: string | null;
  timestamp: number;
  /** false with acks=0: the broker sends no acknowledgement, the record was only written to the socket */
  acknowledged: boolean;
}

/** A record from append until it is acknowledged or fails. */
export interface PendingRecord {
  record: ProducerRecord;
  /** when the producer took it */
  receivedAt: number;
  acknowledged(meta: RecordMetadata): void;
  failed(err: Error): void;
  /** set once settled, so nothing settles twice */
  settled?: boolean;
}

/** The record batch header and the per-record overhead estimate used for batch.size. */
export const BATCH_HEADER_BYTES = 61;

export const NO_SEQUENCE = -1;

export class ProducerBatch {
  readonly records: PendingRecord[] = [];
  /** uncompressed bytes of the records (estimated as record.ts sizes them) */
  recordBytes = 0;
  /** sends so far */
  attempts = 0;
  lastAttemptAt = 0;
  /** not sent again before this time (retry backoff) */
  retryAt = 0;
  /** no more appends: it was drained, split or replaced */
  closed = false;
  inFlight = false;
  /** settled (acknowledged or failed) */
  done = false;
  producerId = -1n;
  producerEpoch = -1;
  baseSequence = NO_SEQUENCE;
  /** its sequence numbers were rewritten after an epoch bump (Java: sequenceHasBeenReset) */
  sequenceReset = false;
  /** the bytes as last written; reused for every resend */
  wire?: EncodedBatch;
  /** the error of its last failed attempt */
  lastError?: Error;
  /** an attempt ended without knowing whether the broker wrote it (connection lost, timeout) */
  mayBeWritten = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
  ) {}

  get count(): number {
    return this.records.length;
  }

  get hasSequence(): boolean {
    return this.baseSequence !== NO_SEQUENCE;
  }

  /** the sequence number of its last record */
  get lastSequence(): number {
    return incrementSequence(this.baseSequence, this.count - 1);
  }

  /** Sets who sends it: at its first drain, and again (sequenceReset) after an epoch bump. */
  setProducerState(producerId: bigint, producerEpoch: number, baseSequence: number, reset = false): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
    if (reset) this.sequenceReset = true;
  }

  /** Unsent records that have not settled (a batch only ever loses records by failing them). */
  live(): PendingRecord[] {
    return this.records.filter((p) => !p.settled);
  }
}

/** Sequence numbers wrap at Int32.MAX_VALUE to 0, as the broker counts them. */
export function incrementSequence(sequence: number, increment: number): number {
  const next = sequence + increment;
  return next > 0x7fffffff ? next - 0x80000000 : next;
}

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

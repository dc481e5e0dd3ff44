// Reading Kafka's big-endian wire types from a response body. Only the
// non-flexible (pre-KIP-482) forms: the versions this package asks for are
// all non-flexible.

export class WireReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.at;
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) {
      throw new RangeError(`Kafka response truncated: needed ${n} bytes at ${this.at} of ${this.buf.length}`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.at++);
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }

  /** STRING or NULLABLE_STRING (length -1 → null). */
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  /** ARRAY of `item`; a null array (-1) reads as empty. */
  array<T>(item: (r: WireReader) => T): T[] {
    const n = this.int32();
    if (n <= 0) return [];
    // A count larger than the bytes left is a corrupt answer, not a reason to allocate.
    if (n > this.remaining) throw new RangeError(`Kafka response has an array of ${n} items with ${this.remaining} bytes left`);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }
}

/** Writes Kafka's big-endian wire types into a buffer sized beforehand. */
export class WireWriter {
  private at = 0;
  readonly buf: Buffer;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  static stringSize(s: string | null): number {
    return 2 + (s === null ? 0 : Buffer.byteLength(s, 'utf8'));
  }

  int8(v: number): this {
    this.at = this.buf.writeInt8(v, this.at);
    return this;
  }

  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.at = this.buf.writeInt16BE(v, this.at);
    return this;
  }

  int32(v: number): this {
    this.at = this.buf.writeInt32BE(v, this.at);
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const n = Buffer.byteLength(s, 'utf8');
    this.int16(n);
    this.at += this.buf.write(s, this.at, 'utf8');
    return this;
  }

  /** The buffer, checked to be exactly filled. */
  done(): Buffer {
    if (this.at !== this.buf.length) throw new Error(`Kafka request: wrote ${this.at} bytes of ${this.buf.length}`);
    return this.buf;
  }
}

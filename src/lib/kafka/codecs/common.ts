// Small helpers the codecs share.

/** The error every codec throws for input it cannot read. */
export function corrupt(codec: string, what: string): Error {
  return new Error(`${codec}: corrupt or unsupported compressed data: ${what}`);
}

/** A Buffer over the same memory (the libraries hand back plain Uint8Arrays). */
export const asBuffer = (u8: Uint8Array): Buffer => (Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength));

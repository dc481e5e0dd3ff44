// gzip: Node's zlib with its defaults, the very call kafkajs's own gzip codec
// makes (so the bytes are the ones kafkajs has always written), and unzip,
// which also reads a zlib (deflate) stream.
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

export function compress(input: Buffer): Promise<Buffer> {
  return gzip(input);
}

export function decompress(input: Buffer): Promise<Buffer> {
  return unzip(input);
}

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { fileType } from '../sources/untrusted/file-type.ts';
import { ConfigError } from './yaml-document.ts';

/**
 * Largest config (or web config) file read; a bigger one is refused before it is parsed (issue 11). About 1 KiB
 * for each of MAX_SOURCES sources; parsing YAML takes ~300 bytes of memory per byte of such a file.
 */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * The text of a config file, or a ConfigError naming the file: only a regular file of at most
 * MAX_CONFIG_FILE_BYTES of valid UTF-8 is read.
 */
export function readConfigText(file: string, what = 'config file'): string {
  let bytes: Buffer;
  try {
    bytes = readSmallFile(file, what);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError(code === undefined ? `${file}: ${message}` : `${file}: cannot read ${what}: ${message}`);
  }
  return decodeUtf8(bytes, file);
}

/**
 * The bytes of a regular file of at most MAX_CONFIG_FILE_BYTES, or an Error saying why not (the file system's
 * own error, with its `code`, or a reason without one). A FIFO would block forever and /dev/zero never ends, so
 * the type is checked on the open descriptor before anything is read (issue 11).
 */
export function readSmallFile(file: string, what: string): Buffer {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise wait for one.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`not a regular file (${fileType(stats)})`);
    const bytes = readAtMost(fd, stats.size, MAX_CONFIG_FILE_BYTES + 1);
    if (bytes.length > MAX_CONFIG_FILE_BYTES) {
      throw new Error(`${Math.max(stats.size, bytes.length)} bytes; a ${what} may have at most ${MAX_CONFIG_FILE_BYTES} bytes`);
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

// Reads up to `limit` bytes. The size from fstat is only where to start, since the file may grow while it is read;
// starting there rather than at `limit` keeps a 1 MiB buffer out of every start (it would stay in the malloc
// heap's RSS after it is freed: idle memory, bench/).
function readAtMost(fd: number, sizeHint: number, limit: number): Buffer {
  let buffer = Buffer.allocUnsafe(Math.min(sizeHint + 1, limit));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length === limit) return buffer;
      const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const n = readSync(fd, buffer, length, buffer.length - length, null);
    if (n === 0) return buffer.subarray(0, length);
    length += n;
  }
}

/** Strict UTF-8: an invalid byte is an error at its line and column rather than a silent U+FFFD. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = bytes.toString('utf8');
    // Everything before the first U+FFFD that is not a literal EF BF BD in the file decoded as written.
    for (let at = lenient.indexOf('\uFFFD'); at !== -1; at = lenient.indexOf('\uFFFD', at + 1)) {
      const offset = Buffer.byteLength(lenient.slice(0, at));
      if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) continue;
      const before = lenient.slice(0, at);
      const line = before.split('\n').length;
      const col = at - before.lastIndexOf('\n');
      const byte = bytes[offset]!.toString(16).padStart(2, '0');
      throw new ConfigError(`${file}:${line}:${col}: invalid UTF-8 (byte 0x${byte}); save the file as UTF-8`);
    }
    throw new ConfigError(`${file}: invalid UTF-8; save the file as UTF-8`);
  }
}

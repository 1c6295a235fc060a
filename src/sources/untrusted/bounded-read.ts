import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { CollectionError } from '../collection-error.ts';
import { formatSize } from './byte-size.ts';
import { fileType } from './file-type.ts';

// Bytes asked of one read(): a file arrives in a few calls, each of which the collection's end can cut short.
const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a regular file of at most `maxBytes`. Opened non-blocking so a FIFO without a writer (or a device)
 * is refused at once instead of holding one of libuv's four I/O threads forever (issue 11); its size is checked
 * before anything is read, and again while reading in case it grows. `onStat` sees the file's metadata first.
 */
export async function readRegularFile(
  path: string,
  options: { maxBytes: number; field: string; signal?: AbortSignal; onStat?: (stats: Stats) => void },
): Promise<Uint8Array> {
  const { maxBytes, signal } = options;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new CollectionError('error', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new CollectionError('error', `cannot read ${path}: not a regular file (${fileType(stats)})`);
    options.onStat?.(stats);
    const tooLarge = () => new CollectionError('too_large', `${path} is larger than ${options.field} (${formatSize(maxBytes)})`);
    if (stats.size > maxBytes) throw tooLarge();
    // One byte more than the cap tells a file that grew past it from one that ends exactly there.
    let buffer = new Uint8Array(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      signal?.throwIfAborted();
      if (length === buffer.length) {
        if (length > maxBytes) throw tooLarge();
        const grown = new Uint8Array(Math.min(buffer.length * 2, maxBytes + 1));
        grown.set(buffer);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, Math.min(CHUNK_BYTES, buffer.length - length), length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

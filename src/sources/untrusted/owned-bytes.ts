/**
 * Chunks joined into one buffer of its own: not a view into Node's shared pool of small Buffers (which
 * Buffer.concat may return), so it can be transferred to the mapping worker instead of copied.
 */
export function ownedBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

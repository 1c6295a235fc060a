/**
 * The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), as much of it as metrics.proto
 * needs: varints, zigzag varints, doubles, strings and nested messages, written into one growing Buffer.
 *
 * A nested message's length comes before its content but is known only after it: `begin` reserves one byte for
 * it, and `end` moves the content when the length needs more (a message of 128 bytes or more). Most messages of an
 * exposition (one series) are shorter, so the content is seldom moved, and never more than once per message.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;

export class ProtobufEncoder {
  #buffer: Buffer;
  #offset = 0;

  constructor(sizeHint: number) {
    this.#buffer = Buffer.allocUnsafe(Math.max(sizeHint, 1024));
  }

  get length(): number {
    return this.#offset;
  }

  /** What was written so far (a view of the encoder's buffer: do not write more after taking it). */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#offset);
  }

  /** The bytes written since `offset` (a view: copy it to keep it). */
  since(offset: number): Buffer {
    return this.#buffer.subarray(offset, this.#offset);
  }

  /** Forgets everything written after `offset` (a message that turned out empty). */
  truncate(offset: number): void {
    this.#offset = offset;
  }

  /** A varint field (uint32/uint64/int32 of a non-negative value, enum). */
  uint(field: number, value: number): void {
    this.#varint(field * 8 + WIRE_VARINT);
    this.#varint(value);
  }

  /** A zigzag varint field (sint32, sint64). */
  sint(field: number, value: number): void {
    this.#varint(field * 8 + WIRE_VARINT);
    this.#varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  double(field: number, value: number): void {
    this.#varint(field * 8 + WIRE_FIXED64);
    this.#reserve(8);
    this.#offset = this.#buffer.writeDoubleLE(value, this.#offset);
  }

  string(field: number, value: string): void {
    const start = this.begin(field);
    // Three bytes per UTF-16 unit covers any UTF-8 encoding of the text.
    this.#reserve(value.length * 3);
    this.#offset += this.#buffer.write(value, this.#offset);
    this.end(start);
  }

  /** Bytes already encoded (fields of the current message, e.g. cached label pairs). */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#offset);
    this.#offset += bytes.length;
  }

  /** Starts a length-delimited field (a nested message); returns what `end` takes. */
  begin(field: number): number {
    this.#varint(field * 8 + WIRE_LENGTH_DELIMITED);
    return this.beginDelimited();
  }

  /** Starts a length-prefixed message without a field tag (one message of a delimited stream). */
  beginDelimited(): number {
    this.#reserve(1);
    return this.#offset++;
  }

  /** Ends the message `begin` started: writes its length before it. */
  end(start: number): void {
    const length = this.#offset - start - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.#reserve(size - 1);
      this.#buffer.copyWithin(start + size, start + 1, this.#offset);
      this.#offset += size - 1;
    }
    let at = start;
    let rest = length;
    while (rest >= 0x80) {
      this.#buffer[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.#buffer[at] = rest;
  }

  // Values up to 2^53 (counts and timestamps are JS numbers): above 2^31 the bits are taken by division.
  #varint(value: number): void {
    this.#reserve(10);
    const buffer = this.#buffer;
    let at = this.#offset;
    let rest = value;
    while (rest > 0x7fffffff) {
      buffer[at++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    while (rest >= 0x80) {
      buffer[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    buffer[at++] = rest;
    this.#offset = at;
  }

  #reserve(bytes: number): void {
    if (this.#offset + bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#offset + bytes, Math.ceil(this.#buffer.length * 1.5)));
    this.#buffer.copy(grown, 0, 0, this.#offset);
    this.#buffer = grown;
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest >>>= 7) size++;
  return size;
}

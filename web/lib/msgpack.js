// MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md) for the browser.
//
// Type mapping
//   decode: nil → null, bool → boolean, int → number (BigInt beyond ±2^53−1), float32/64 → number,
//           str → string, bin → Uint8Array (a copy that owns its buffer), array → Array,
//           map → plain object (non-string keys become strings), ext → Ext, ext −1 (timestamp) → Date.
//   encode: null/undefined → nil, boolean → bool, safe integer → smallest int format,
//           other number → float64, BigInt → int64/uint64, string → str, Uint8Array/ArrayBuffer and
//           other ArrayBuffer views → bin (their bytes), Array → array, Map and plain objects → map,
//           Ext → ext, Date → timestamp ext −1.
// Both directions refuse nesting deeper than `maxDepth` (64 by default) with a MessagePackError.

/** Default limit on array/map nesting, for both directions. */
export const DEFAULT_MAX_DEPTH = 64;

/** Thrown for malformed input, unsupported values and exceeded limits. */
export class MessagePackError extends Error {
  constructor(message) {
    super(message);
    this.name = "MessagePackError";
  }
}

/** A msgpack extension value: `type` is an int8, `data` the raw payload bytes. */
export class Ext {
  /**
   * @param {number} type extension type, -128…127
   * @param {Uint8Array} data payload
   */
  constructor(type, data) {
    this.type = type;
    this.data = data;
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const TIMESTAMP_EXT = -1;
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** A growable byte buffer with big-endian writers. */
class Writer {
  constructor(initialSize = 256) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer);
    this.length = 0;
  }

  ensure(extra) {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u8(v) { this.ensure(1); this.view.setUint8(this.length, v); this.length += 1; }
  u16(v) { this.ensure(2); this.view.setUint16(this.length, v); this.length += 2; }
  u32(v) { this.ensure(4); this.view.setUint32(this.length, v); this.length += 4; }
  i8(v) { this.ensure(1); this.view.setInt8(this.length, v); this.length += 1; }
  i16(v) { this.ensure(2); this.view.setInt16(this.length, v); this.length += 2; }
  i32(v) { this.ensure(4); this.view.setInt32(this.length, v); this.length += 4; }
  u64(v) { this.ensure(8); this.view.setBigUint64(this.length, v); this.length += 8; }
  i64(v) { this.ensure(8); this.view.setBigInt64(this.length, v); this.length += 8; }
  f64(v) { this.ensure(8); this.view.setFloat64(this.length, v); this.length += 8; }
  raw(bytes) { this.ensure(bytes.length); this.bytes.set(bytes, this.length); this.length += bytes.length; }

  result() { return this.bytes.slice(0, this.length); }
}

/**
 * Encode one value as MessagePack.
 * @param {*} value
 * @param {{maxDepth?: number}} [options]
 * @returns {Uint8Array}
 */
export function encode(value, { maxDepth = DEFAULT_MAX_DEPTH } = {}) {
  const w = new Writer();
  writeValue(w, value, 0, maxDepth);
  return w.result();
}

function writeValue(w, v, depth, maxDepth) {
  switch (typeof v) {
    case "undefined": w.u8(0xc0); return;
    case "boolean": w.u8(v ? 0xc3 : 0xc2); return;
    case "number": writeNumber(w, v); return;
    case "bigint": writeBigInt(w, v); return;
    case "string": writeString(w, v); return;
    case "object": break;
    default:
      throw new MessagePackError(`msgpack: cannot encode a value of type ${typeof v}`);
  }
  if (v === null) { w.u8(0xc0); return; }
  if (v instanceof Uint8Array) { writeBin(w, v); return; }
  if (v instanceof ArrayBuffer) { writeBin(w, new Uint8Array(v)); return; }
  if (ArrayBuffer.isView(v)) { writeBin(w, new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
  if (v instanceof Ext) { writeExt(w, v.type, v.data); return; }
  if (v instanceof Date) { writeTimestamp(w, v); return; }
  if (depth >= maxDepth) {
    throw new MessagePackError(
      `msgpack: value nested deeper than ${maxDepth} levels (a cyclic structure?); flatten it or raise maxDepth`);
  }
  if (Array.isArray(v)) {
    writeHeader(w, v.length, 0x90, 0xdc, 0xdd, 15);
    for (const item of v) writeValue(w, item, depth + 1, maxDepth);
    return;
  }
  if (v instanceof Map) {
    writeHeader(w, v.size, 0x80, 0xde, 0xdf, 15);
    for (const [key, item] of v) {
      writeValue(w, key, depth + 1, maxDepth);
      writeValue(w, item, depth + 1, maxDepth);
    }
    return;
  }
  const keys = Object.keys(v);
  writeHeader(w, keys.length, 0x80, 0xde, 0xdf, 15);
  for (const key of keys) {
    writeString(w, key);
    writeValue(w, v[key], depth + 1, maxDepth);
  }
}

function writeHeader(w, n, fix, code16, code32, fixMax) {
  if (n <= fixMax) w.u8(fix | n);
  else if (n <= 0xffff) { w.u8(code16); w.u16(n); }
  else if (n <= 0xffffffff) { w.u8(code32); w.u32(n); }
  else throw new MessagePackError(`msgpack: container of ${n} items is too large`);
}

function writeNumber(w, v) {
  if (!Number.isSafeInteger(v) || Object.is(v, -0)) { w.u8(0xcb); w.f64(v); return; }
  if (v >= 0) {
    if (v <= 0x7f) w.u8(v);
    else if (v <= 0xff) { w.u8(0xcc); w.u8(v); }
    else if (v <= 0xffff) { w.u8(0xcd); w.u16(v); }
    else if (v <= 0xffffffff) { w.u8(0xce); w.u32(v); }
    else { w.u8(0xcf); w.u64(BigInt(v)); }
  } else {
    if (v >= -32) w.i8(v);
    else if (v >= -0x80) { w.u8(0xd0); w.i8(v); }
    else if (v >= -0x8000) { w.u8(0xd1); w.i16(v); }
    else if (v >= -0x80000000) { w.u8(0xd2); w.i32(v); }
    else { w.u8(0xd3); w.i64(BigInt(v)); }
  }
}

function writeBigInt(w, v) {
  if (v >= 0n && v <= UINT64_MAX) { w.u8(0xcf); w.u64(v); return; }
  if (v < 0n && v >= INT64_MIN) { w.u8(0xd3); w.i64(v); return; }
  throw new MessagePackError(`msgpack: BigInt ${v} does not fit in 64 bits`);
}

function writeString(w, s) {
  // A UTF-8 string takes at most 3 bytes per UTF-16 code unit.
  const maxBytes = s.length * 3;
  w.ensure(5 + maxBytes);
  const headerAt = w.length;
  const headerSize = maxBytes < 32 ? 1 : maxBytes <= 0xff ? 2 : maxBytes <= 0xffff ? 3 : 5;
  const { written } = utf8Encoder.encodeInto(s, w.bytes.subarray(headerAt + headerSize));
  // Re-encode with the smallest header if the estimate picked a larger one than needed.
  const size = written < 32 ? 1 : written <= 0xff ? 2 : written <= 0xffff ? 3 : 5;
  if (size !== headerSize) {
    w.bytes.copyWithin(headerAt + size, headerAt + headerSize, headerAt + headerSize + written);
  }
  if (size === 1) w.view.setUint8(headerAt, 0xa0 | written);
  else if (size === 2) { w.view.setUint8(headerAt, 0xd9); w.view.setUint8(headerAt + 1, written); }
  else if (size === 3) { w.view.setUint8(headerAt, 0xda); w.view.setUint16(headerAt + 1, written); }
  else { w.view.setUint8(headerAt, 0xdb); w.view.setUint32(headerAt + 1, written); }
  w.length = headerAt + size + written;
}

function writeBin(w, bytes) {
  const n = bytes.length;
  if (n <= 0xff) { w.u8(0xc4); w.u8(n); }
  else if (n <= 0xffff) { w.u8(0xc5); w.u16(n); }
  else { w.u8(0xc6); w.u32(n); }
  w.raw(bytes);
}

function writeExt(w, type, data) {
  if (!Number.isInteger(type) || type < -128 || type > 127) {
    throw new MessagePackError(`msgpack: extension type ${type} is not an int8`);
  }
  const n = data.length;
  const fixed = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[n];
  if (fixed) w.u8(fixed);
  else if (n <= 0xff) { w.u8(0xc7); w.u8(n); }
  else if (n <= 0xffff) { w.u8(0xc8); w.u16(n); }
  else { w.u8(0xc9); w.u32(n); }
  w.i8(type);
  w.raw(data);
}

function writeTimestamp(w, date) {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new MessagePackError("msgpack: cannot encode an invalid Date");
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1e6;
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, nanos);
  view.setBigInt64(4, BigInt(seconds));
  writeExt(w, TIMESTAMP_EXT, data); // timestamp 96: always valid, simplest to read back
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * Reads consecutive msgpack objects from a byte array (a binary frame may hold two).
 * `offset` is the position of the next unread byte.
 */
export class Decoder {
  /**
   * @param {Uint8Array|ArrayBuffer} bytes
   * @param {{maxDepth?: number}} [options]
   */
  constructor(bytes, { maxDepth = DEFAULT_MAX_DEPTH } = {}) {
    this.bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.offset = 0;
    this.maxDepth = maxDepth;
  }

  /** True when every byte has been read. */
  get done() { return this.offset >= this.bytes.length; }

  /** Decode the next object. Throws MessagePackError on truncated or malformed data. */
  read() {
    if (this.done) throw new MessagePackError("msgpack: no more data to decode");
    return this.value(0);
  }

  need(n) {
    if (this.offset + n > this.bytes.length) {
      throw new MessagePackError(
        `msgpack: truncated data (needs ${n} more bytes at offset ${this.offset}, ${this.bytes.length - this.offset} left)`);
    }
  }

  u8() { this.need(1); return this.view.getUint8(this.offset++); }
  u16() { this.need(2); const v = this.view.getUint16(this.offset); this.offset += 2; return v; }
  u32() { this.need(4); const v = this.view.getUint32(this.offset); this.offset += 4; return v; }
  i8() { this.need(1); return this.view.getInt8(this.offset++); }
  i16() { this.need(2); const v = this.view.getInt16(this.offset); this.offset += 2; return v; }
  i32() { this.need(4); const v = this.view.getInt32(this.offset); this.offset += 4; return v; }
  f32() { this.need(4); const v = this.view.getFloat32(this.offset); this.offset += 4; return v; }
  f64() { this.need(8); const v = this.view.getFloat64(this.offset); this.offset += 8; return v; }
  u64() { this.need(8); const v = this.view.getBigUint64(this.offset); this.offset += 8; return smallest(v); }
  i64() { this.need(8); const v = this.view.getBigInt64(this.offset); this.offset += 8; return smallest(v); }

  take(n) {
    this.need(n);
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  str(n) {
    this.need(n);
    const sub = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    try {
      return utf8Decoder.decode(sub);
    } catch {
      throw new MessagePackError(`msgpack: invalid UTF-8 in a string at offset ${this.offset - n}`);
    }
  }

  value(depth) {
    const at = this.offset;
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    if ((b & 0xf0) === 0x90) return this.array(b & 0x0f, depth);
    if ((b & 0xe0) === 0xa0) return this.str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.take(this.u8());
      case 0xc5: return this.take(this.u16());
      case 0xc6: return this.take(this.u32());
      case 0xc7: return this.ext(this.u8());
      case 0xc8: return this.ext(this.u16());
      case 0xc9: return this.ext(this.u32());
      case 0xca: return this.f32();
      case 0xcb: return this.f64();
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.u64();
      case 0xd0: return this.i8();
      case 0xd1: return this.i16();
      case 0xd2: return this.i32();
      case 0xd3: return this.i64();
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      default:
        throw new MessagePackError(`msgpack: invalid type byte 0x${b.toString(16)} at offset ${at}`);
    }
  }

  enter(depth, n, minBytesEach) {
    if (depth >= this.maxDepth) {
      throw new MessagePackError(`msgpack: data nested deeper than ${this.maxDepth} levels at offset ${this.offset}`);
    }
    // Every element takes at least one byte: refuse counts the remaining input cannot hold
    // before allocating anything.
    this.need(n * minBytesEach);
  }

  array(n, depth) {
    this.enter(depth, n, 1);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n, depth) {
    this.enter(depth, n, 2);
    const out = {};
    for (let i = 0; i < n; i++) {
      const key = mapKey(this.value(depth + 1));
      const item = this.value(depth + 1);
      if (key === "__proto__") {
        Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = item;
      }
    }
    return out;
  }

  ext(n) {
    const type = this.i8();
    const data = this.take(n);
    if (type === TIMESTAMP_EXT) return readTimestamp(data);
    return new Ext(type, data);
  }
}

/**
 * Decode exactly one msgpack object; trailing bytes are an error.
 * @param {Uint8Array|ArrayBuffer} bytes
 * @param {{maxDepth?: number}} [options]
 */
export function decode(bytes, options) {
  const d = new Decoder(bytes, options);
  const value = d.read();
  if (!d.done) {
    throw new MessagePackError(`msgpack: ${d.bytes.length - d.offset} unexpected bytes after the value`);
  }
  return value;
}

/**
 * Decode every object of a concatenated sequence (e.g. the two segments of an RPC frame).
 * @param {Uint8Array|ArrayBuffer} bytes
 * @param {{maxDepth?: number, maxCount?: number}} [options]
 * @returns {Array}
 */
export function decodeSequence(bytes, { maxDepth = DEFAULT_MAX_DEPTH, maxCount = Infinity } = {}) {
  const d = new Decoder(bytes, { maxDepth });
  const out = [];
  while (!d.done) {
    if (out.length >= maxCount) throw new MessagePackError(`msgpack: more than ${maxCount} objects in the sequence`);
    out.push(d.read());
  }
  return out;
}

function smallest(big) {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function mapKey(key) {
  if (typeof key === "string") return key;
  if (key instanceof Uint8Array) return new TextDecoder().decode(key);
  if (key === null || typeof key !== "object") return String(key);
  return JSON.stringify(key, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

function readTimestamp(data) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let seconds, nanos;
  if (data.length === 4) {
    seconds = view.getUint32(0);
    nanos = 0;
  } else if (data.length === 8) {
    const hi = view.getUint32(0);
    nanos = hi >>> 2;
    seconds = (hi & 0x3) * 2 ** 32 + view.getUint32(4);
  } else if (data.length === 12) {
    nanos = view.getUint32(0);
    seconds = Number(view.getBigInt64(4));
  } else {
    return new Ext(TIMESTAMP_EXT, data);
  }
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6));
}

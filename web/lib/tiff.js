// A small baseline-TIFF reader for the image viewer: the first image of a file as an NDArray.
//
// Covers what Python's tifffile and most microscopes write: little- and big-endian files, strips or tiles,
// 8/16/32/64-bit unsigned, signed and float samples, one or more samples per pixel (chunky or planar), and the
// compressions none, PackBits, LZW and Deflate (with or without the horizontal predictor). Anything else is a
// clear error naming the unsupported feature.

import { NDArray } from "./ndarray.js";

const TAG = {
  width: 256, height: 257, bitsPerSample: 258, compression: 259, stripOffsets: 273, samplesPerPixel: 277,
  rowsPerStrip: 278, stripByteCounts: 279, planar: 284, predictor: 317, tileWidth: 322, tileLength: 323,
  tileOffsets: 324, tileByteCounts: 325, sampleFormat: 339,
};
const TYPE_SIZES = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8 };

/** Whether `bytes` start like a TIFF file ("II*\0" or "MM\0*"). */
export function isTIFF(bytes) {
  return bytes.length >= 8 &&
    ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42));
}

/** The first image of a TIFF file: an NDArray of shape [height, width] or [height, width, samples]. */
export async function decodeTIFF(bytes) {
  if (!isTIFF(bytes)) throw new Error("not a TIFF file (it must start with II*\\0 or MM\\0*)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const tags = readDirectory(view, view.getUint32(4, little), little);
  const one = (tag, fallback) => (tags.get(tag) ?? [fallback])[0];
  const width = one(TAG.width);
  const height = one(TAG.height);
  if (!width || !height) throw new Error("TIFF without ImageWidth/ImageLength");
  const samples = one(TAG.samplesPerPixel, 1);
  const bits = one(TAG.bitsPerSample, 1);
  if ((tags.get(TAG.bitsPerSample) ?? [bits]).some((b) => b !== bits)) {
    throw new Error("TIFF samples of different bit depths are not supported");
  }
  const format = one(TAG.sampleFormat, 1);
  const dtype = dtypeFor(bits, format);
  const compression = one(TAG.compression, 1);
  const predictor = one(TAG.predictor, 1);
  const planar = one(TAG.planar, 1) === 2;
  const bytesPerSample = bits / 8;
  const output = new Uint8Array(width * height * samples * bytesPerSample);

  const tiled = tags.has(TAG.tileOffsets);
  const blockWidth = tiled ? one(TAG.tileWidth) : width;
  const blockHeight = tiled ? one(TAG.tileLength) : Math.min(one(TAG.rowsPerStrip, height), height);
  const offsets = tags.get(tiled ? TAG.tileOffsets : TAG.stripOffsets);
  const counts = tags.get(tiled ? TAG.tileByteCounts : TAG.stripByteCounts);
  if (!offsets || !counts) throw new Error("TIFF without strip or tile offsets");
  const across = Math.ceil(width / blockWidth);
  const down = Math.ceil(height / blockHeight);
  const planes = planar ? samples : 1;
  const blockSamples = planar ? 1 : samples;
  for (let index = 0; index < offsets.length; index++) {
    const plane = Math.floor(index / (across * down));
    if (plane >= planes) break;
    const within = index % (across * down);
    const top = Math.floor(within / across) * blockHeight;
    const left = (within % across) * blockWidth;
    const rows = tiled ? blockHeight : Math.min(blockHeight, height - top);
    const rowBytes = blockWidth * blockSamples * bytesPerSample;
    const raw = bytes.subarray(offsets[index], offsets[index] + counts[index]);
    const block = await decompress(raw, compression, rows * rowBytes);
    if (predictor === 2) undoHorizontalDifferencing(block, rows, blockWidth, blockSamples, bytesPerSample, little);
    else if (predictor !== 1) throw new Error(`TIFF predictor ${predictor} is not supported`);
    for (let y = 0; y < rows && top + y < height; y++) {
      for (let x = 0; x < blockWidth && left + x < width; x++) {
        for (let s = 0; s < blockSamples; s++) {
          const from = ((y * blockWidth + x) * blockSamples + s) * bytesPerSample;
          const sample = planar ? plane : s;
          const to = (((top + y) * width + left + x) * samples + sample) * bytesPerSample;
          for (let b = 0; b < bytesPerSample; b++) output[to + b] = block[from + b] ?? 0;
        }
      }
    }
  }
  const shape = samples === 1 ? [height, width] : [height, width, samples];
  return new NDArray(typedArray(output, dtype, little), shape, dtype);
}

function readDirectory(view, offset, little) {
  const tags = new Map();
  const count = view.getUint16(offset, little);
  for (let i = 0; i < count; i++) {
    const entry = offset + 2 + i * 12;
    const tag = view.getUint16(entry, little);
    const type = view.getUint16(entry + 2, little);
    const n = view.getUint32(entry + 4, little);
    const size = TYPE_SIZES[type];
    if (!size) continue;
    const at = size * n <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
    const values = [];
    for (let k = 0; k < n; k++) {
      if (type === 3) values.push(view.getUint16(at + k * 2, little));
      else if (type === 4) values.push(view.getUint32(at + k * 4, little));
      else if (type === 16) values.push(Number(view.getBigUint64(at + k * 8, little)));
      else if (type === 1 || type === 7) values.push(view.getUint8(at + k));
      else break; // rationals, strings and the like: not needed for the pixels
    }
    tags.set(tag, values);
  }
  return tags;
}

function dtypeFor(bits, format) {
  const kind = { 1: "uint", 2: "int", 3: "float" }[format];
  if (!kind) throw new Error(`TIFF sample format ${format} is not supported`);
  const name = `${kind}${bits}`;
  if (!["uint8", "uint16", "uint32", "int8", "int16", "int32", "float32", "float64"].includes(name)) {
    throw new Error(`TIFF samples of ${bits} bits (${kind}) are not supported`);
  }
  return name;
}

function typedArray(bytes, dtype, little) {
  const ctor = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array,
    int32: Int32Array, float32: Float32Array, float64: Float64Array }[dtype];
  const size = ctor.BYTES_PER_ELEMENT;
  if (!little && size > 1) {
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  }
  return new ctor(bytes.buffer, bytes.byteOffset, bytes.length / size);
}

async function decompress(raw, compression, expected) {
  switch (compression) {
    case 1: return raw.slice();
    case 32773: return unpackBits(raw, expected);
    case 5: return decodeLZW(raw, expected);
    case 8:
    case 32946: {
      const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("deflate"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    }
    default: throw new Error(`TIFF compression ${compression} is not supported (none, PackBits, LZW and Deflate are)`);
  }
}

function unpackBits(raw, expected) {
  const out = new Uint8Array(expected);
  let i = 0;
  let o = 0;
  while (i < raw.length && o < expected) {
    const n = (raw[i++] << 24) >> 24;
    if (n >= 0) {
      out.set(raw.subarray(i, i + n + 1), o);
      i += n + 1;
      o += n + 1;
    } else if (n !== -128) {
      out.fill(raw[i++], o, o + 1 - n);
      o += 1 - n;
    }
  }
  return out;
}

function decodeLZW(raw, expected) {
  const out = new Uint8Array(expected);
  let o = 0;
  let table = [];
  const reset = () => {
    table = [];
    for (let i = 0; i < 256; i++) table.push(Uint8Array.of(i));
    table.push(null, null); // 256 clear, 257 end of information
  };
  reset();
  let bitPosition = 0;
  const totalBits = raw.length * 8;
  let previous = null;
  while (bitPosition < totalBits && o < expected) {
    // Code widths grow one code early, as libtiff writes them.
    const next = table.length + 1;
    const width = next >= 2048 ? 12 : next >= 1024 ? 11 : next >= 512 ? 10 : 9;
    let code = 0;
    for (let b = 0; b < width; b++) {
      const bit = bitPosition + b;
      code = (code << 1) | ((raw[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    bitPosition += width;
    if (code === 256) {
      reset();
      previous = null;
      continue;
    }
    if (code === 257) break;
    let entry;
    if (code < table.length && table[code]) {
      entry = table[code];
      if (previous) table.push(concat(previous, entry[0]));
    } else if (previous) {
      entry = concat(previous, previous[0]);
      table.push(entry);
    } else {
      throw new Error("corrupt LZW data in TIFF");
    }
    out.set(entry.subarray(0, Math.max(0, expected - o)), o);
    o += entry.length;
    previous = entry;
  }
  return out;
}

function concat(prefix, byte) {
  const result = new Uint8Array(prefix.length + 1);
  result.set(prefix);
  result[prefix.length] = byte;
  return result;
}

function undoHorizontalDifferencing(block, rows, width, samples, bytesPerSample, little) {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const get = bytesPerSample === 1 ? (i) => view.getUint8(i) : bytesPerSample === 2 ? (i) => view.getUint16(i, little)
    : (i) => view.getUint32(i, little);
  const set = bytesPerSample === 1 ? (i, v) => view.setUint8(i, v) : bytesPerSample === 2
    ? (i, v) => view.setUint16(i, v, little) : (i, v) => view.setUint32(i, v, little);
  const mask = bytesPerSample === 4 ? 0xffffffff : (1 << (bytesPerSample * 8)) - 1;
  for (let y = 0; y < rows; y++) {
    for (let x = 1; x < width; x++) {
      for (let s = 0; s < samples; s++) {
        const at = ((y * width + x) * samples + s) * bytesPerSample;
        const before = at - samples * bytesPerSample;
        if (at + bytesPerSample > block.length) return;
        set(at, ((get(at) + get(before)) & mask) >>> 0);
      }
    }
  }
}

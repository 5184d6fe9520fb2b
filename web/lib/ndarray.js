// N-dimensional arrays on the wire: `{_rtype: "ndarray", _rvalue: <bytes>, _rshape: [...], _rdtype: "float32"}`
// (numpy's raw C-order, little-endian bytes and numpy's dtype names).
//
// In JavaScript an array is an `NDArray`: a TypedArray (`data`) plus `shape` and `dtype`.
// A bare TypedArray (other than Uint8Array, which travels as bytes) is sent as a 1-D ndarray.

const DTYPES = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
  bool: Uint8Array, // numpy bool is one byte per element, 0 or 1
  ...(typeof Float16Array === "function" ? { float16: Float16Array } : {}),
};

/** numpy dtype name of a TypedArray, e.g. Float32Array → "float32". */
export function dtypeOf(typed) {
  if (typed instanceof Uint8ClampedArray) return "uint8";
  for (const [name, ctor] of Object.entries(DTYPES)) {
    if (name !== "bool" && typed instanceof ctor) return name;
  }
  throw new TypeError(`No numpy dtype for ${typed?.constructor?.name}`);
}

/** An n-dimensional array: `data` (a TypedArray, C order), `shape` (ints) and `dtype` (numpy name). */
export class NDArray {
  /**
   * @param {ArrayBufferView} data elements in C order; for dtypes JavaScript lacks (e.g. "<U5",
   *   "complex64") a Uint8Array of the raw bytes
   * @param {number[]} [shape] defaults to `[data.length]`
   * @param {string} [dtype] defaults to the dtype of `data`
   */
  constructor(data, shape, dtype) {
    if (!ArrayBuffer.isView(data) || data instanceof DataView) {
      throw new TypeError("NDArray data must be a TypedArray");
    }
    this.data = data;
    this.dtype = dtype ?? dtypeOf(data);
    this.shape = shape ? Array.from(shape) : [data.length];
    if (!this.shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw new TypeError(`Invalid ndarray shape [${this.shape}]`);
    }
    const count = this.shape.reduce((a, b) => a * b, 1);
    if (this.dtype in DTYPES && count !== data.length) {
      throw new TypeError(`ndarray shape [${this.shape}] needs ${count} elements, data has ${data.length}`);
    }
  }

  /** Number of elements. */
  get size() {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** Wire form of an NDArray or TypedArray. */
export function encodeNDArray(array) {
  const nd = array instanceof NDArray ? array : new NDArray(array);
  const d = nd.data;
  return {
    _rtype: "ndarray",
    _rvalue: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
    _rshape: nd.shape,
    _rdtype: nd.dtype,
  };
}

/** NDArray from the wire form; `_rvalue` may be one bytes value or a list of pieces. */
export function decodeNDArray(obj) {
  const bytes = joinBytes(obj._rvalue);
  const shape = Array.isArray(obj._rshape) ? obj._rshape : [];
  const dtype = String(obj._rdtype);
  const ctor = DTYPES[dtype];
  if (!ctor) return new NDArray(bytes, shape, dtype);
  return new NDArray(typedView(ctor, bytes, dtype), shape, dtype);
}

/** TypedArray from the `typedarray` wire form (hypha-rpc JavaScript peers). */
export function decodeTypedArray(obj) {
  const dtype = String(obj._rdtype);
  const ctor = DTYPES[dtype];
  if (!ctor) throw new TypeError(`Unsupported typedarray dtype "${dtype}"`);
  return typedView(ctor, joinBytes(obj._rvalue), dtype);
}

function typedView(ctor, bytes, dtype) {
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new TypeError(`ndarray of dtype ${dtype} has ${bytes.byteLength} bytes, not a multiple of ${size}`);
  }
  // Element views need an aligned offset; copy when the bytes sit at an odd place.
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new ctor(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}

function joinBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value) && value.every((p) => p instanceof Uint8Array)) {
    const total = value.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of value) { out.set(p, at); at += p.length; }
    return out;
  }
  throw new TypeError("ndarray _rvalue must be bytes");
}

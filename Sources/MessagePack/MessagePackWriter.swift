#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Appends msgpack encodings to a byte array, choosing the smallest representation of each value.
///
/// Use ``write(_:)`` for whole values, or the `write…Header` methods plus ``writeRaw(_:)`` to splice
/// already-encoded bytes (a cached header field, say) into a document without decoding them.
public struct MessagePackWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The bytes as `Data`.
    public var data: Data { Data(bytes) }

    public mutating func write(_ value: MessagePackValue) {
        switch value {
        case .nil: bytes.append(0xc0)
        case .bool(let b): bytes.append(b ? 0xc3 : 0xc2)
        case .int(let v): writeInt(v)
        case .uint(let v): writeUInt(v)
        case .float(let f):
            bytes.append(0xca)
            appendBigEndian(f.bitPattern)
        case .double(let d):
            bytes.append(0xcb)
            appendBigEndian(d.bitPattern)
        case .string(let s): writeString(s)
        case .binary(let d): writeBinary(d)
        case .array(let values):
            writeArrayHeader(count: values.count)
            for v in values { write(v) }
        case .map(let map):
            writeMapHeader(count: map.count)
            for entry in map.entries {
                write(entry.key)
                write(entry.value)
            }
        case .ext(let type, let data): writeExt(type: type, data: data)
        case .timestamp(let t): writeTimestamp(t)
        case .raw(let encoded): bytes.append(contentsOf: encoded)
        }
    }

    public mutating func writeNil() { bytes.append(0xc0) }

    public mutating func writeInt(_ v: Int64) {
        if v >= 0 { return writeUInt(UInt64(v)) }
        switch v {
        case -32..<0: bytes.append(UInt8(bitPattern: Int8(v)))
        case Int64(Int8.min)..<0:
            bytes.append(0xd0)
            bytes.append(UInt8(bitPattern: Int8(v)))
        case Int64(Int16.min)..<0:
            bytes.append(0xd1)
            appendBigEndian(UInt16(bitPattern: Int16(v)))
        case Int64(Int32.min)..<0:
            bytes.append(0xd2)
            appendBigEndian(UInt32(bitPattern: Int32(v)))
        default:
            bytes.append(0xd3)
            appendBigEndian(UInt64(bitPattern: v))
        }
    }

    public mutating func writeUInt(_ v: UInt64) {
        switch v {
        case 0...0x7f: bytes.append(UInt8(v))
        case 0...0xff:
            bytes.append(0xcc)
            bytes.append(UInt8(v))
        case 0...0xffff:
            bytes.append(0xcd)
            appendBigEndian(UInt16(v))
        case 0...0xffff_ffff:
            bytes.append(0xce)
            appendBigEndian(UInt32(v))
        default:
            bytes.append(0xcf)
            appendBigEndian(v)
        }
    }

    public mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            let n = utf8.count
            switch n {
            case 0...31: bytes.append(0xa0 | UInt8(n))
            case 0...0xff:
                bytes.append(0xd9)
                bytes.append(UInt8(n))
            case 0...0xffff:
                bytes.append(0xda)
                appendBigEndian(UInt16(n))
            default:
                bytes.append(0xdb)
                appendBigEndian(UInt32(n))
            }
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func writeBinary(_ d: Data) {
        writeBinaryHeader(count: d.count)
        bytes.append(contentsOf: d)
    }

    /// Writes the header of a `bin` value; the caller appends exactly `count` bytes with ``writeRaw(_:)``.
    public mutating func writeBinaryHeader(count n: Int) {
        switch n {
        case 0...0xff:
            bytes.append(0xc4)
            bytes.append(UInt8(n))
        case 0...0xffff:
            bytes.append(0xc5)
            appendBigEndian(UInt16(n))
        default:
            bytes.append(0xc6)
            appendBigEndian(UInt32(n))
        }
    }

    public mutating func writeArrayHeader(count n: Int) {
        switch n {
        case 0...15: bytes.append(0x90 | UInt8(n))
        case 0...0xffff:
            bytes.append(0xdc)
            appendBigEndian(UInt16(n))
        default:
            bytes.append(0xdd)
            appendBigEndian(UInt32(n))
        }
    }

    public mutating func writeMapHeader(count n: Int) {
        switch n {
        case 0...15: bytes.append(0x80 | UInt8(n))
        case 0...0xffff:
            bytes.append(0xde)
            appendBigEndian(UInt16(n))
        default:
            bytes.append(0xdf)
            appendBigEndian(UInt32(n))
        }
    }

    public mutating func writeExt(type: Int8, data: Data) {
        let n = data.count
        switch n {
        case 1: bytes.append(0xd4)
        case 2: bytes.append(0xd5)
        case 4: bytes.append(0xd6)
        case 8: bytes.append(0xd7)
        case 16: bytes.append(0xd8)
        case 0...0xff:
            bytes.append(0xc7)
            bytes.append(UInt8(n))
        case 0...0xffff:
            bytes.append(0xc8)
            appendBigEndian(UInt16(n))
        default:
            bytes.append(0xc9)
            appendBigEndian(UInt32(n))
        }
        bytes.append(UInt8(bitPattern: type))
        bytes.append(contentsOf: data)
    }

    public mutating func writeTimestamp(_ t: MessagePackTimestamp) {
        if t.seconds >= 0, t.seconds >> 34 == 0 {
            if t.nanoseconds == 0, t.seconds <= Int64(UInt32.max) {
                bytes.append(contentsOf: [0xd6, 0xff])
                appendBigEndian(UInt32(t.seconds))
            } else {
                bytes.append(contentsOf: [0xd7, 0xff])
                appendBigEndian(UInt64(t.nanoseconds) << 34 | UInt64(t.seconds))
            }
        } else {
            bytes.append(contentsOf: [0xc7, 12, 0xff])
            appendBigEndian(t.nanoseconds)
            appendBigEndian(UInt64(bitPattern: t.seconds))
        }
    }

    /// Appends bytes that are already msgpack (or the payload promised by a header).
    public mutating func writeRaw<C: Collection>(_ raw: C) where C.Element == UInt8 {
        bytes.append(contentsOf: raw)
    }

    private mutating func appendBigEndian<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Encodes whole values to msgpack.
public enum MessagePackEncoder {
    /// The msgpack encoding of `value`.
    public static func encode(_ value: MessagePackValue) -> Data {
        Data(encodeBytes(value))
    }

    /// The msgpack encoding of `value`, as bytes.
    public static func encodeBytes(_ value: MessagePackValue) -> [UInt8] {
        var writer = MessagePackWriter()
        writer.write(value)
        return writer.bytes
    }
}

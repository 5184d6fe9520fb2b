/// Where one entry of a msgpack map lies in the input: the key's and the value's bytes, each with its format byte.
public struct MessagePackEntrySpan: Sendable, Equatable {
    public var key: Range<Int>
    public var value: Range<Int>

    public init(key: Range<Int>, value: Range<Int>) {
        self.key = key
        self.value = value
    }
}

/// Reads the structure of msgpack bytes without building values: skips over objects and finds the entries
/// of a top-level map as byte ranges. Used where decoding would cost too much (a router reading the few
/// fields it needs from a header, or checking the keys of a large body).
public enum MessagePackScanner {
    /// The entries of the map that starts `bytes`, as byte ranges, and the offset where the map ends. Keys
    /// and values are checked for structure (lengths, nesting up to `maxDepth`), not decoded: strings are not
    /// validated as UTF-8.
    /// - Throws: ``MessagePackError`` when the bytes are not a well-formed map; `.invalidFormatByte` with the
    ///   offset 0 when they hold a well-formed value of another type.
    public static func mapEntries(of bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(MessagePackError)
        -> (entries: [MessagePackEntrySpan], end: Int)
    {
        var reader = Reader(bytes: bytes, source: nil, limits: DecodingLimits(maxDepth: maxDepth))
        let marker = try reader.readByte()
        let count: Int
        switch marker {
        case 0x80...0x8f: count = Int(marker & 0x0f)
        case 0xde: count = Int(try reader.readBigEndian(UInt16.self))
        case 0xdf: count = Int(try reader.readBigEndian(UInt32.self))
        default:
            reader.position = 0
            try reader.skipValue(depth: 1)  // a malformed value says what is wrong with it first
            throw MessagePackError(.invalidFormatByte, offset: 0, message: "expected a map")
        }
        try reader.checkContainer(count: count, minimumBytesEach: 2, depth: 1, start: 0)
        var entries: [MessagePackEntrySpan] = []
        entries.reserveCapacity(min(count, 32))  // the count is the sender's word
        for _ in 0..<count {
            let keyStart = reader.position
            try reader.skipValue(depth: 2)
            let valueStart = reader.position
            try reader.skipValue(depth: 2)
            entries.append(MessagePackEntrySpan(key: keyStart..<valueStart, value: valueStart..<reader.position))
        }
        return (entries, reader.position)
    }

    /// The UTF-8 bytes of the `str` value that fills `range` (a key or value range from
    /// ``mapEntries(of:maxDepth:)``), or `nil` when that value is of another type.
    public static func stringPayload(of range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        guard !range.isEmpty else { return nil }
        let headerSize: Int
        switch bytes[range.lowerBound] {
        case 0xa0...0xbf: headerSize = 1
        case 0xd9: headerSize = 2
        case 0xda: headerSize = 3
        case 0xdb: headerSize = 5
        default: return nil
        }
        return (range.lowerBound + headerSize)..<range.upperBound
    }

    /// The `str` value that fills `range`, decoded; `nil` when it is of another type or not valid UTF-8.
    public static func string(at range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> String? {
        guard let payload = stringPayload(of: range, in: bytes) else { return nil }
        return String(validUTF8: UnsafeRawBufferPointer(rebasing: bytes[payload]))
    }
}

extension Reader {
    /// Advances past one value without materialising it.
    mutating func skipValue(depth: Int) throws(MessagePackError) {
        let start = position
        let byte = try readByte()
        switch byte {
        case 0x00...0x7f, 0xc0, 0xc2, 0xc3, 0xe0...0xff: return
        case 0x80...0x8f: try skipContainer(Int(byte & 0x0f) * 2, depth: depth, start: start)
        case 0x90...0x9f: try skipContainer(Int(byte & 0x0f), depth: depth, start: start)
        case 0xa0...0xbf: _ = try take(Int(byte & 0x1f))
        case 0xc4, 0xd9: _ = try take(Int(try readBigEndian(UInt8.self)))
        case 0xc5, 0xda: _ = try take(Int(try readBigEndian(UInt16.self)))
        case 0xc6, 0xdb: _ = try take(Int(try readBigEndian(UInt32.self)))
        case 0xc7: _ = try take(Int(try readBigEndian(UInt8.self)) + 1)
        case 0xc8: _ = try take(Int(try readBigEndian(UInt16.self)) + 1)
        case 0xc9: _ = try take(Int(try readBigEndian(UInt32.self)) + 1)
        case 0xca: _ = try take(4)
        case 0xcb: _ = try take(8)
        case 0xcc, 0xd0: _ = try take(1)
        case 0xcd, 0xd1: _ = try take(2)
        case 0xce, 0xd2: _ = try take(4)
        case 0xcf, 0xd3: _ = try take(8)
        case 0xd4: _ = try take(2)
        case 0xd5: _ = try take(3)
        case 0xd6: _ = try take(5)
        case 0xd7: _ = try take(9)
        case 0xd8: _ = try take(17)
        case 0xdc: try skipContainer(Int(try readBigEndian(UInt16.self)), depth: depth, start: start)
        case 0xdd: try skipContainer(Int(try readBigEndian(UInt32.self)), depth: depth, start: start)
        case 0xde: try skipContainer(Int(try readBigEndian(UInt16.self)) * 2, depth: depth, start: start)
        case 0xdf: try skipContainer(Int(try readBigEndian(UInt32.self)) * 2, depth: depth, start: start)
        default:
            throw MessagePackError(
                .invalidFormatByte, offset: start, message: "byte 0x\(String(byte, radix: 16)) is not a msgpack format")
        }
    }

    private mutating func skipContainer(_ values: Int, depth: Int, start: Int) throws(MessagePackError) {
        if depth + 1 > limits.maxDepth {
            throw MessagePackError(
                .depthLimitExceeded, offset: start, message: "containers nested deeper than \(limits.maxDepth) levels")
        }
        if values > remaining {
            throw MessagePackError(
                .truncated, offset: start, message: "container declares \(values) values but only \(remaining) bytes remain")
        }
        for _ in 0..<values { try skipValue(depth: depth + 1) }
    }
}

extension String {
    /// The string `bytes` spell in UTF-8, or `nil` when they are not valid UTF-8. ASCII (nearly every key, id and
    /// method name) takes a fast path: the generic `String(validating:as:)` costs several times as much.
    init?(validUTF8 bytes: UnsafeRawBufferPointer) {
        let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
        if utf8.allSatisfy({ $0 < 0x80 }) {
            self = String(decoding: utf8, as: UTF8.self)
        } else if let string = String(validating: utf8, as: UTF8.self) {
            self = string
        } else {
            return nil
        }
    }
}

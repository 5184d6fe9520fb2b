/// Reads the structure of msgpack bytes without building values: skips over objects and lists the keys
/// of a top-level map. Used where decoding would cost too much (a router inspecting a large body).
public enum MessagePackScanner {
    /// The string keys of the map that starts `bytes`; values are skipped, not decoded.
    /// - Throws: ``MessagePackError`` when the bytes are not a well-formed map within `maxDepth`.
    public static func topLevelKeys(of bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(MessagePackError)
        -> [String]
    {
        var reader = Reader(bytes: bytes, source: nil, limits: DecodingLimits(maxDepth: maxDepth))
        let start = reader.position
        let marker = try reader.readByte()
        let count: Int
        switch marker {
        case 0x80...0x8f: count = Int(marker & 0x0f)
        case 0xde: count = Int(try reader.readBigEndian(UInt16.self))
        case 0xdf: count = Int(try reader.readBigEndian(UInt32.self))
        default:
            throw MessagePackError(.invalidFormatByte, offset: start, message: "expected a map")
        }
        try reader.checkContainer(count: count, minimumBytesEach: 2, depth: 1, start: start)
        var keys: [String] = []
        keys.reserveCapacity(count)
        for _ in 0..<count {
            if case .string(let key) = try reader.readValue(depth: 2) { keys.append(key) }
            try reader.skipValue(depth: 2)
        }
        return keys
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

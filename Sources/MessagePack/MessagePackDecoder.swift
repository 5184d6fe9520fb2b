#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Decodes msgpack bytes into ``MessagePackValue``s, enforcing ``DecodingLimits``.
///
/// ```swift
/// let decoder = MessagePackDecoder()
/// let (header, used) = try decoder.decodeFirst(frame)   // a frame is a header map, maybe followed by a body
/// let body = frame.dropFirst(used)                      // forward untouched, or decode later
/// ```
///
/// `bin` payloads decoded from `Data` are slices of the input (no copy).
public struct MessagePackDecoder: Sendable {
    public var limits: DecodingLimits

    public init(limits: DecodingLimits = .default) {
        self.limits = limits
    }

    /// Decodes exactly one value; trailing bytes are an error.
    public func decode(_ data: Data) throws(MessagePackError) -> MessagePackValue {
        let (value, used) = try decodeFirst(data)
        if used != data.count {
            throw MessagePackError(
                .trailingBytes, offset: used, message: "\(data.count - used) unexpected bytes after the value")
        }
        return value
    }

    /// Decodes the first value and reports how many bytes it used.
    public func decodeFirst(_ data: Data) throws(MessagePackError) -> (value: MessagePackValue, byteCount: Int) {
        try checkSize(data.count)
        let result: Result<(MessagePackValue, Int), MessagePackError> = data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw, source: data, limits: limits)
            do throws(MessagePackError) {
                let value = try reader.readValue(depth: 1)
                return .success((value, reader.position))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes every value of a buffer that holds several concatenated values.
    public func decodeAll(_ data: Data) throws(MessagePackError) -> [MessagePackValue] {
        try checkSize(data.count)
        let result: Result<[MessagePackValue], MessagePackError> = data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw, source: data, limits: limits)
            var values: [MessagePackValue] = []
            do throws(MessagePackError) {
                while reader.position < raw.count {
                    values.append(try reader.readValue(depth: 1))
                }
                return .success(values)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes the first value of raw memory; `bin` payloads are copied out.
    public func decodeFirst(_ bytes: UnsafeRawBufferPointer) throws(MessagePackError) -> (
        value: MessagePackValue, byteCount: Int
    ) {
        try checkSize(bytes.count)
        var reader = Reader(bytes: bytes, source: nil, limits: limits)
        let value = try reader.readValue(depth: 1)
        return (value, reader.position)
    }

    private func checkSize(_ count: Int) throws(MessagePackError) {
        if count > limits.maxInputSize {
            throw MessagePackError(
                .inputTooLarge, offset: 0,
                message: "input of \(count) bytes exceeds the limit of \(limits.maxInputSize) bytes")
        }
        if count == 0 {
            throw MessagePackError(.truncated, offset: 0, message: "empty input")
        }
    }
}

// MARK: - Reader

/// A cursor over raw bytes. `source`, when given, is the `Data` the bytes belong to, so that
/// `bin` payloads can be returned as slices of it.
struct Reader {
    let bytes: UnsafeRawBufferPointer
    let source: Data?
    let limits: DecodingLimits
    var position = 0
    var elements = 0

    init(bytes: UnsafeRawBufferPointer, source: Data?, limits: DecodingLimits) {
        self.bytes = bytes
        self.source = source
        self.limits = limits
    }

    var remaining: Int { bytes.count - position }

    mutating func readValue(depth: Int) throws(MessagePackError) -> MessagePackValue {
        elements += 1
        if elements > limits.maxElements {
            throw MessagePackError(
                .tooManyElements, offset: position,
                message: "more than \(limits.maxElements) values in one document")
        }
        let start = position
        let byte = try readByte()
        switch byte {
        case 0x00...0x7f: return .uint(UInt64(byte))
        case 0x80...0x8f: return try readMap(count: Int(byte & 0x0f), depth: depth, start: start)
        case 0x90...0x9f: return try readArray(count: Int(byte & 0x0f), depth: depth, start: start)
        case 0xa0...0xbf: return try readString(length: Int(byte & 0x1f))
        case 0xc0: return .nil
        case 0xc2: return .bool(false)
        case 0xc3: return .bool(true)
        case 0xc4: return try readBinary(length: Int(try readBigEndian(UInt8.self)))
        case 0xc5: return try readBinary(length: Int(try readBigEndian(UInt16.self)))
        case 0xc6: return try readBinary(length: Int(try readBigEndian(UInt32.self)))
        case 0xc7: return try readExt(length: Int(try readBigEndian(UInt8.self)))
        case 0xc8: return try readExt(length: Int(try readBigEndian(UInt16.self)))
        case 0xc9: return try readExt(length: Int(try readBigEndian(UInt32.self)))
        case 0xca: return .float(Float(bitPattern: try readBigEndian(UInt32.self)))
        case 0xcb: return .double(Double(bitPattern: try readBigEndian(UInt64.self)))
        case 0xcc: return .uint(UInt64(try readBigEndian(UInt8.self)))
        case 0xcd: return .uint(UInt64(try readBigEndian(UInt16.self)))
        case 0xce: return .uint(UInt64(try readBigEndian(UInt32.self)))
        case 0xcf: return .uint(try readBigEndian(UInt64.self))
        case 0xd0: return .int(Int64(Int8(bitPattern: try readBigEndian(UInt8.self))))
        case 0xd1: return .int(Int64(Int16(bitPattern: try readBigEndian(UInt16.self))))
        case 0xd2: return .int(Int64(Int32(bitPattern: try readBigEndian(UInt32.self))))
        case 0xd3: return .int(Int64(bitPattern: try readBigEndian(UInt64.self)))
        case 0xd4: return try readExt(length: 1)
        case 0xd5: return try readExt(length: 2)
        case 0xd6: return try readExt(length: 4)
        case 0xd7: return try readExt(length: 8)
        case 0xd8: return try readExt(length: 16)
        case 0xd9: return try readString(length: Int(try readBigEndian(UInt8.self)))
        case 0xda: return try readString(length: Int(try readBigEndian(UInt16.self)))
        case 0xdb: return try readString(length: Int(try readBigEndian(UInt32.self)))
        case 0xdc: return try readArray(count: Int(try readBigEndian(UInt16.self)), depth: depth, start: start)
        case 0xdd: return try readArray(count: Int(try readBigEndian(UInt32.self)), depth: depth, start: start)
        case 0xde: return try readMap(count: Int(try readBigEndian(UInt16.self)), depth: depth, start: start)
        case 0xdf: return try readMap(count: Int(try readBigEndian(UInt32.self)), depth: depth, start: start)
        case 0xe0...0xff: return .int(Int64(Int8(bitPattern: byte)))
        default:
            throw MessagePackError(
                .invalidFormatByte, offset: start, message: "byte 0x\(String(byte, radix: 16)) is not a msgpack format")
        }
    }

    mutating func readByte() throws(MessagePackError) -> UInt8 {
        guard position < bytes.count else { throw truncated(needing: 1) }
        let b = bytes[position]
        position += 1
        return b
    }

    mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) throws(MessagePackError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw truncated(needing: size) }
        let value = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
        return T(bigEndian: value)
    }

    func truncated(needing count: Int) -> MessagePackError {
        MessagePackError(
            .truncated, offset: position,
            message: "input ends early: \(count) more bytes needed, \(remaining) left")
    }

    mutating func take(_ length: Int) throws(MessagePackError) -> Range<Int> {
        guard remaining >= length else { throw truncated(needing: length) }
        let range = position..<(position + length)
        position += length
        return range
    }

    mutating func readString(length: Int) throws(MessagePackError) -> MessagePackValue {
        if length > limits.maxStringLength {
            throw MessagePackError(
                .payloadTooLarge, offset: position,
                message: "string of \(length) bytes exceeds the limit of \(limits.maxStringLength)")
        }
        let range = try take(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard let string = String(validUTF8: slice) else {
            throw MessagePackError(.invalidUTF8, offset: range.lowerBound, message: "string is not valid UTF-8")
        }
        return .string(string)
    }

    mutating func payload(length: Int) throws(MessagePackError) -> Data {
        if length > limits.maxBinaryLength {
            throw MessagePackError(
                .payloadTooLarge, offset: position,
                message: "binary payload of \(length) bytes exceeds the limit of \(limits.maxBinaryLength)")
        }
        let range = try take(length)
        if let source {
            let base = source.startIndex
            return source[(base + range.lowerBound)..<(base + range.upperBound)]
        }
        return Data(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    mutating func readBinary(length: Int) throws(MessagePackError) -> MessagePackValue {
        .binary(try payload(length: length))
    }

    mutating func readExt(length: Int) throws(MessagePackError) -> MessagePackValue {
        let start = position
        let type = Int8(bitPattern: try readByte())
        let data = try payload(length: length)
        guard type == -1 else { return .ext(type: type, data: data) }
        return .timestamp(try Self.timestamp(from: data, offset: start))
    }

    static func timestamp(from data: Data, offset: Int) throws(MessagePackError) -> MessagePackTimestamp {
        let bytes = [UInt8](data)
        func be<T: FixedWidthInteger>(_ range: Range<Int>, _: T.Type) -> T {
            bytes[range].reduce(T(0)) { ($0 << 8) | T($1) }
        }
        let timestamp: MessagePackTimestamp
        switch bytes.count {
        case 4:
            timestamp = MessagePackTimestamp(seconds: Int64(be(0..<4, UInt32.self)))
        case 8:
            let word = be(0..<8, UInt64.self)
            timestamp = MessagePackTimestamp(
                seconds: Int64(word & 0x3_ffff_ffff), nanoseconds: UInt32(word >> 34))
        case 12:
            timestamp = MessagePackTimestamp(
                seconds: Int64(bitPattern: be(4..<12, UInt64.self)), nanoseconds: be(0..<4, UInt32.self))
        default:
            throw MessagePackError(
                .invalidTimestamp, offset: offset, message: "timestamp extension of \(bytes.count) bytes")
        }
        if timestamp.nanoseconds >= 1_000_000_000 {
            throw MessagePackError(.invalidTimestamp, offset: offset, message: "timestamp nanoseconds out of range")
        }
        return timestamp
    }

    mutating func checkContainer(count: Int, minimumBytesEach: Int, depth: Int, start: Int) throws(MessagePackError) {
        if depth > limits.maxDepth {
            throw MessagePackError(
                .depthLimitExceeded, offset: start,
                message: "containers nested deeper than \(limits.maxDepth) levels")
        }
        if count > limits.maxContainerCount {
            throw MessagePackError(
                .containerTooLarge, offset: start,
                message: "container declares \(count) entries, over the limit of \(limits.maxContainerCount)")
        }
        if count > remaining / minimumBytesEach {
            throw MessagePackError(
                .truncated, offset: start,
                message: "container declares \(count) entries but only \(remaining) bytes remain")
        }
    }

    mutating func readArray(count: Int, depth: Int, start: Int) throws(MessagePackError) -> MessagePackValue {
        try checkContainer(count: count, minimumBytesEach: 1, depth: depth, start: start)
        var values: [MessagePackValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            values.append(try readValue(depth: depth + 1))
        }
        return .array(values)
    }

    mutating func readMap(count: Int, depth: Int, start: Int) throws(MessagePackError) -> MessagePackValue {
        try checkContainer(count: count, minimumBytesEach: 2, depth: depth, start: start)
        var map = MessagePackMap()
        map.entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try readValue(depth: depth + 1)
            let value = try readValue(depth: depth + 1)
            map.entries.append((key: key, value: value))
        }
        return .map(map)
    }
}

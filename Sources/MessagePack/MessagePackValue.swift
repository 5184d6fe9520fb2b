#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One msgpack value: the whole format, with extension types and timestamps kept as values.
///
/// Maps keep the order of their entries and allow keys of any type; use ``MessagePackMap`` to look up
/// string keys. `binary` payloads decoded from a `Data` buffer are slices of that buffer (no copy), so
/// their indices need not start at zero.
public enum MessagePackValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    /// A signed integer (negative values, or any value an encoder chose to store as signed).
    case int(Int64)
    /// An unsigned integer (msgpack positive fixint and uint formats decode to this case).
    case uint(UInt64)
    case float(Float)
    case double(Double)
    case string(String)
    case binary(Data)
    case array([MessagePackValue])
    case map(MessagePackMap)
    /// An application extension type (`type` ≥ 0) or a reserved type other than the timestamp.
    case ext(type: Int8, data: Data)
    /// The msgpack timestamp extension (type −1).
    case timestamp(MessagePackTimestamp)
    /// Bytes that are already one encoded msgpack value, written verbatim (a cached encoding spliced into a
    /// larger document). The decoder never produces this case.
    case raw(Data)
}

/// The msgpack timestamp extension value: seconds since 1970 and a nanosecond part.
public struct MessagePackTimestamp: Sendable, Hashable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

extension MessagePackValue {
    /// The value as a string, if it is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as an `Int`, if it is an integer that fits, or a float with an integral value.
    public var intValue: Int? {
        switch self {
        case .int(let v): return Int(exactly: v)
        case .uint(let v): return Int(exactly: v)
        case .double(let v): return Int(exactly: v)
        case .float(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// The value as a `Double`, if it is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .uint(let v): return Double(v)
        case .double(let v): return v
        case .float(let v): return Double(v)
        default: return nil
        }
    }

    /// The value as a `Bool`, if it is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The value as a map, if it is one.
    public var mapValue: MessagePackMap? {
        if case .map(let m) = self { return m }
        return nil
    }

    /// The value as an array, if it is one.
    public var arrayValue: [MessagePackValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The value as binary data, if it is `bin`.
    public var binaryValue: Data? {
        if case .binary(let d) = self { return d }
        return nil
    }

    /// Whether the value is `nil`.
    public var isNil: Bool {
        if case .nil = self { return true }
        return false
    }

    /// Looks up a string key when the value is a map.
    public subscript(key: String) -> MessagePackValue? {
        mapValue?[key]
    }
}

extension MessagePackValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = value >= 0 ? .uint(UInt64(value)) : .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: MessagePackValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, MessagePackValue)...) {
        self = .map(MessagePackMap(elements.map { (.string($0.0), $0.1) }))
    }
}

extension MessagePackValue {
    /// An integer value in the representation the decoder produces: `.uint` for non-negative values.
    public static func integer<I: BinaryInteger>(_ value: I) -> MessagePackValue {
        if value >= 0, let u = UInt64(exactly: value) { return .uint(u) }
        return .int(Int64(value))
    }
}

extension MessagePackValue: ExpressibleByStringInterpolation {}

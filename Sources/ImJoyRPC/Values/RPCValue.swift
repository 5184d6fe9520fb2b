#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import MessagePack

/// A value as RPC peers exchange it: plain data plus the protocol's remote objects
/// (functions, generators, n-dimensional arrays, errors).
///
/// Values that have no dedicated case (extension types, unknown `_rtype`s, integers above `Int64.max`)
/// travel as ``encoded(_:)`` and are forwarded verbatim.
public enum RPCValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes(Data)
    case array([RPCValue])
    case object(RPCObject)
    case ndarray(NDArray)
    case function(RPCFunction)
    case generator(RPCGenerator)
    case error(RemoteError)
    /// A msgpack value sent and received as is.
    case encoded(MessagePackValue)
}

extension RPCValue {
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as an `Int`: integers, and doubles with an integral value (Python sends `15.0`).
    public var intValue: Int? {
        switch self {
        case .int(let v): return Int(exactly: v)
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: RPCObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [RPCValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var functionValue: RPCFunction? {
        if case .function(let f) = self { return f }
        return nil
    }

    public var ndarrayValue: NDArray? {
        if case .ndarray(let a) = self { return a }
        return nil
    }

    public var bytesValue: Data? {
        if case .bytes(let d) = self { return d }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Looks up a key when the value is an object.
    public subscript(key: String) -> RPCValue? {
        objectValue?[key]
    }
}

extension RPCValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: RPCValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, RPCValue)...) { self = .object(RPCObject(elements)) }
}

extension RPCValue: ExpressibleByStringInterpolation {}

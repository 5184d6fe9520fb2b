#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An n-dimensional array as numpy sends it: a dtype string, a shape and the raw C-order bytes.
///
/// The bytes are little-endian for multi-byte dtypes (`"<f4"` and `"float32"` mean the same here).
/// Arrays decoded from a frame share the frame's storage (no copy).
public struct NDArray: Sendable, Equatable {
    /// The numpy dtype name, e.g. `"float32"`, `"uint8"`, `"bool"`, `"int64"`, `"<U5"`.
    public var dtype: String
    public var shape: [Int]
    /// The elements in C order, little-endian.
    public var data: Data

    /// Creates an array from raw bytes.
    /// - Throws: ``RPCError`` when the byte count does not match the shape and the dtype's item size.
    public init(dtype: String, shape: [Int], data: Data) throws(RPCError) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw RPCError(.invalidValue, "ndarray shape \(shape) has a negative dimension")
        }
        if let size = Self.itemSize(of: dtype) {
            guard let elements = Self.product(shape), case (let expected, false) = elements.multipliedReportingOverflow(by: size)
            else {
                throw RPCError(.invalidValue, "ndarray shape \(shape) is too large")
            }
            if expected != data.count {
                throw RPCError(
                    .invalidValue,
                    "ndarray of dtype \(dtype) and shape \(shape) needs \(expected) bytes but has \(data.count)")
            }
        }
    }

    /// Creates an array from Swift numbers, stored little-endian.
    public init<T: NDArrayElement>(_ values: [T], shape: [Int]? = nil) {
        self.dtype = T.dtype
        self.shape = shape ?? [values.count]
        var bytes = Data(capacity: values.count * MemoryLayout<T>.size)
        for v in values { v.appendLittleEndian(to: &bytes) }
        self.data = bytes
    }

    /// Number of elements (product of the shape).
    public var count: Int { Self.product(shape) ?? 0 }

    /// The product of `shape`, or `nil` when it overflows.
    static func product(_ shape: [Int]) -> Int? {
        var total = 1
        for dimension in shape {
            let (next, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = next
        }
        return total
    }

    /// The elements as Swift numbers, if `T` matches the dtype.
    public func values<T: NDArrayElement>(as _: T.Type) -> [T]? {
        guard Self.normalised(dtype) == T.dtype else { return nil }
        let size = MemoryLayout<T>.size
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / size)).map { T.fromLittleEndian(raw, at: $0 * size) }
        }
    }

    /// The size in bytes of one element of a numpy dtype name, or `nil` when it is not a fixed-size numeric type.
    public static func itemSize(of dtype: String) -> Int? {
        switch normalised(dtype) {
        case "bool", "int8", "uint8": return 1
        case "int16", "uint16", "float16": return 2
        case "int32", "uint32", "float32": return 4
        case "int64", "uint64", "float64", "complex64": return 8
        case "complex128": return 16
        default: return nil
        }
    }

    /// Maps numpy's short forms (`"<f4"`, `"|u1"`, `"?"`) to the long names numpy prints (`"float32"`…).
    public static func normalised(_ dtype: String) -> String {
        var code = dtype
        if let first = code.first, "<|=".contains(first) { code.removeFirst() }
        switch code {
        case "?", "b1": return "bool"
        case "i1": return "int8"
        case "u1": return "uint8"
        case "i2": return "int16"
        case "u2": return "uint16"
        case "f2": return "float16"
        case "i4": return "int32"
        case "u4": return "uint32"
        case "f4": return "float32"
        case "i8": return "int64"
        case "u8": return "uint64"
        case "f8": return "float64"
        case "c8": return "complex64"
        case "c16": return "complex128"
        default: return code
        }
    }
}

/// A Swift number type with a numpy dtype.
public protocol NDArrayElement: Sendable {
    static var dtype: String { get }
    func appendLittleEndian(to data: inout Data)
    static func fromLittleEndian(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Self
}

extension NDArrayElement where Self: FixedWidthInteger {
    public func appendLittleEndian(to data: inout Data) {
        withUnsafeBytes(of: littleEndian) { data.append(contentsOf: $0) }
    }
    public static func fromLittleEndian(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Self {
        Self(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Self.self))
    }
}

extension UInt8: NDArrayElement { public static var dtype: String { "uint8" } }
extension Int8: NDArrayElement { public static var dtype: String { "int8" } }
extension UInt16: NDArrayElement { public static var dtype: String { "uint16" } }
extension Int16: NDArrayElement { public static var dtype: String { "int16" } }
extension UInt32: NDArrayElement { public static var dtype: String { "uint32" } }
extension Int32: NDArrayElement { public static var dtype: String { "int32" } }
extension UInt64: NDArrayElement { public static var dtype: String { "uint64" } }
extension Int64: NDArrayElement { public static var dtype: String { "int64" } }

extension Float: NDArrayElement {
    public static var dtype: String { "float32" }
    public func appendLittleEndian(to data: inout Data) { bitPattern.appendLittleEndian(to: &data) }
    public static func fromLittleEndian(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Float {
        Float(bitPattern: UInt32.fromLittleEndian(raw, at: offset))
    }
}

extension Double: NDArrayElement {
    public static var dtype: String { "float64" }
    public func appendLittleEndian(to data: inout Data) { bitPattern.appendLittleEndian(to: &data) }
    public static func fromLittleEndian(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Double {
        Double(bitPattern: UInt64.fromLittleEndian(raw, at: offset))
    }
}

extension Bool: NDArrayElement {
    public static var dtype: String { "bool" }
    public func appendLittleEndian(to data: inout Data) { data.append(self ? 1 : 0) }
    public static func fromLittleEndian(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Bool { raw[offset] != 0 }
}

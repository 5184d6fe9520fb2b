#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension NDArray {
    /// The array as a `.npy` file (format 1.0: magic, a header dict padded to 64 bytes, the C-order bytes), which
    /// `numpy.load` reads back with the same dtype and shape. `nil` for dtypes without a fixed item size (`<U5` …).
    public var npyData: Data? {
        let descr: String
        switch Self.normalised(dtype) {
        case "bool": descr = "|b1"
        case "int8": descr = "|i1"
        case "uint8": descr = "|u1"
        case "int16": descr = "<i2"
        case "uint16": descr = "<u2"
        case "float16": descr = "<f2"
        case "int32": descr = "<i4"
        case "uint32": descr = "<u4"
        case "float32": descr = "<f4"
        case "int64": descr = "<i8"
        case "uint64": descr = "<u8"
        case "float64": descr = "<f8"
        case "complex64": descr = "<c8"
        case "complex128": descr = "<c16"
        default: return nil
        }
        let dimensions = shape.map(String.init).joined(separator: ", ")
        let shapeText = shape.count == 1 ? "(\(dimensions),)" : "(\(dimensions))"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // magic (6) + version (2) + header length (2) + header + "\n" is a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        guard header.utf8.count <= Int(UInt16.max) else { return nil }
        var file = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        file.append(UInt8(header.utf8.count & 0xFF))
        file.append(UInt8(header.utf8.count >> 8))
        file.append(contentsOf: header.utf8)
        file.append(data)
        return file
    }
}

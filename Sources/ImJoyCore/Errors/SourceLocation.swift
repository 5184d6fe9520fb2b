/// A position in a plugin file: 1-based line and column (columns count characters).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static let start = SourceLocation(line: 1, column: 1)

    public var description: String { "\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// Maps offsets in a text to line and column.
struct LineIndex: Sendable {
    /// Offset (in UTF-8 bytes) where each line starts.
    private let lineStarts: [Int]
    private let utf8: [UInt8]

    init(_ text: String) {
        utf8 = Array(text.utf8)
        var starts = [0]
        for (i, byte) in utf8.enumerated() where byte == UInt8(ascii: "\n") { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The location of a UTF-8 offset.
    func location(ofByte offset: Int) -> SourceLocation {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        let start = lineStarts[low]
        let end = min(max(offset, start), utf8.count)
        let column = String(decoding: utf8[start..<end], as: UTF8.self).count + 1
        return SourceLocation(line: low + 1, column: column)
    }
}

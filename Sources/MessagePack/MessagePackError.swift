/// Why msgpack bytes could not be decoded. Match on ``code``; show ``description`` to people.
public struct MessagePackError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The input ended inside a value.
        case truncated
        /// The byte 0xc1, which msgpack never uses, or another impossible byte.
        case invalidFormatByte
        /// A `str` value was not valid UTF-8.
        case invalidUTF8
        /// Containers nested deeper than ``DecodingLimits/maxDepth``.
        case depthLimitExceeded
        /// An array or map declared more entries than ``DecodingLimits/maxContainerCount`` or than the input can hold.
        case containerTooLarge
        /// A `str`, `bin` or `ext` longer than its limit.
        case payloadTooLarge
        /// The input is longer than ``DecodingLimits/maxInputSize``.
        case inputTooLarge
        /// The document holds more values than ``DecodingLimits/maxElements``.
        case tooManyElements
        /// Bytes were left after the value(s) the caller asked for.
        case trailingBytes
        /// A timestamp extension with a length other than 4, 8 or 12, or nanoseconds ≥ 10⁹.
        case invalidTimestamp
    }

    public var code: Code
    /// Byte offset in the input where the problem was found.
    public var offset: Int
    public var message: String

    public init(_ code: Code, offset: Int, message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    public var description: String { "msgpack: \(message) (at byte \(offset))" }
}

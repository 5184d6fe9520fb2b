/// Hard limits the decoder enforces so that hostile input fails with a ``MessagePackError``
/// instead of exhausting the stack or memory.
public struct DecodingLimits: Sendable, Equatable {
    /// Maximum nesting of arrays and maps (the top-level value is depth 1).
    public var maxDepth: Int
    /// Maximum number of entries one array or map may declare.
    public var maxContainerCount: Int
    /// Maximum length of one `str` value, in bytes.
    public var maxStringLength: Int
    /// Maximum length of one `bin` or `ext` payload, in bytes.
    public var maxBinaryLength: Int
    /// Maximum length of the whole input, in bytes.
    public var maxInputSize: Int
    /// Maximum number of values (scalars and containers) in one decoded document.
    public var maxElements: Int

    public init(
        maxDepth: Int = 128,
        maxContainerCount: Int = 1 << 22,
        maxStringLength: Int = 64 << 20,
        maxBinaryLength: Int = 1 << 30,
        maxInputSize: Int = 1 << 30,
        maxElements: Int = 1 << 22
    ) {
        self.maxDepth = maxDepth
        self.maxContainerCount = maxContainerCount
        self.maxStringLength = maxStringLength
        self.maxBinaryLength = maxBinaryLength
        self.maxInputSize = maxInputSize
        self.maxElements = maxElements
    }

    /// Generous limits for RPC payloads (the default).
    public static let `default` = DecodingLimits()

    /// Tight limits for routing headers: small, shallow maps.
    public static let header = DecodingLimits(
        maxDepth: 32, maxContainerCount: 4096, maxStringLength: 1 << 20, maxBinaryLength: 1 << 20,
        maxInputSize: 1 << 30, maxElements: 65536)
}

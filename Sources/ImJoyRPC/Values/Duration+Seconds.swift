extension Duration {
    /// A duration from a number of seconds sent by a peer, clamped to `range`; `nil` for NaN, infinities
    /// and non-positive values.
    public static func seconds(clamping value: Double, to range: ClosedRange<Double> = 0.001...86_400) -> Duration? {
        guard value.isFinite, value > 0 else { return nil }
        let clamped = min(max(value, range.lowerBound), range.upperBound)
        return .milliseconds(Int64((clamped * 1000).rounded()))
    }

    /// The timeout of a call without a time limit: ten years, so its pending reply never expires.
    static let unlimitedCall = Duration.seconds(10 * 365 * 86_400)

    /// The duration in seconds.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

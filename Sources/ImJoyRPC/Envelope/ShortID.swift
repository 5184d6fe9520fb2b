/// Random identifiers for sessions and callbacks: 22 characters from a 64-letter alphabet (132 random bits),
/// never containing `.`, `/`, `:` or `#` (so they are safe as session ids and path components).
public enum ShortID {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// A new random identifier of 22 characters.
    ///
    /// Three 64-bit draws feed all 22 characters: on Linux every draw from the system generator is a
    /// `getrandom` system call, and identifiers are made for every call.
    public static func make() -> String {
        var system = SystemRandomNumberGenerator()
        return make(using: &system)
    }

    /// A new random identifier of 22 characters drawn from `generator` (a peer's pooled system generator).
    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        var words = (generator.next(), generator.next(), generator.next())
        var bytes = [UInt8](repeating: 0, count: 22)
        for i in 0..<22 {
            let word: UInt64
            switch i / 10 {
            case 0: word = words.0; words.0 >>= 6
            case 1: word = words.1; words.1 >>= 6
            default: word = words.2; words.2 >>= 6
            }
            bytes[i] = alphabet[Int(word & 63)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

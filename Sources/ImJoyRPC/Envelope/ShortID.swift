/// Random identifiers in the style of Python's shortuuid: 22 characters from a 57-letter alphabet,
/// never containing `.`, `/` or `:` (so they are safe as session ids and path components).
public enum ShortID {
    static let alphabet = Array("23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

    /// A new random identifier of `length` characters.
    public static func make(length: Int = 22) -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }
}

/// Orders plugin versions (`0.1.10` after `0.1.9`; `1.0` equals `1.0.0`; text after a number, as in `1.0.0rc1`,
/// sorts before the plain number). Used to decide whether an update is newer.
public enum PluginVersion {
    /// Whether `lhs` is an older version than `rhs`.
    public static func isOlder(_ lhs: String, than rhs: String) -> Bool {
        let a = parts(lhs)
        let b = parts(rhs)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : (0, "")
            let y = index < b.count ? b[index] : (0, "")
            if x.0 != y.0 { return x.0 < y.0 }
            if x.1 != y.1 {
                // A pre-release suffix sorts before the release itself.
                if x.1.isEmpty { return false }
                if y.1.isEmpty { return true }
                return x.1 < y.1
            }
        }
        return false
    }

    private static func parts(_ version: String) -> [(Int, String)] {
        var text = Substring(version.trimmingSpaces)
        if text.first == "v" || text.first == "V" { text = text.dropFirst() }
        return text.split(separator: ".").map { part in
            let digits = part.prefix { $0.isASCII && $0.isNumber }
            return (Int(digits) ?? 0, String(part.dropFirst(digits.count)))
        }
    }
}

/// Package-name rules of PEP 503 / PEP 508, enough to compare and report requirements.
public enum PythonPackageName {
    /// The name part of a specifier (`scikit-image>=0.20` → `scikit-image`); `nil` for URLs and VCS specs.
    public static func name(of specifier: String) -> String? {
        let text = specifier.trimmingSpaces
        if text.contains("://") || text.hasPrefix("git+") || text.hasPrefix(".") || text.hasPrefix("/") { return nil }
        let name = text.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        return name.isEmpty ? nil : canonical(String(name))
    }

    /// Lowercased, with runs of `-`, `_` and `.` folded to one `-`.
    public static func canonical(_ name: String) -> String {
        var result = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { result.append("-") }
                lastWasSeparator = true
            } else {
                result.append(character)
                lastWasSeparator = false
            }
        }
        return result
    }

    /// The specifier with its name canonicalised and spaces removed (`NumPy >= 1.0` → `numpy>=1.0`).
    public static func canonicalSpecifier(_ specifier: String) -> String {
        let text = specifier.trimmingSpaces
        guard let name = name(of: text) else { return text }
        let nameLength = text.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }.count
        let rest = text.dropFirst(nameLength).filter { $0 != " " }
        return name + rest
    }
}

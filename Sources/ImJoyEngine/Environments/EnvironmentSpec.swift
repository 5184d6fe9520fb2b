import Crypto
import ImJoyCore

/// The base interpreter environments are made from.
public struct PythonInterpreter: Sendable, Hashable {
    /// Absolute path of the interpreter (`sys.executable`).
    public var path: String
    /// `platform.python_version()`, e.g. `3.11.7`.
    public var version: String

    public init(path: String, version: String) {
        self.path = path
        self.version = version
    }
}

/// What an isolated Python environment must contain. Equal specs share one cached environment.
public struct EnvironmentSpec: Sendable, Hashable {
    public var interpreter: PythonInterpreter
    /// pip requirement specifiers, normalised and sorted (the runtime's own packages included).
    public var packages: [String]
    /// conda packages, normalised and sorted; empty for a plain venv.
    public var condaPackages: [String]

    public init(interpreter: PythonInterpreter, packages: [String], condaPackages: [String] = []) {
        self.interpreter = interpreter
        self.packages = Self.normalise(packages)
        self.condaPackages = Self.normalise(condaPackages)
    }

    /// The cache key: a hash of the interpreter and the sorted requirements.
    public var key: String {
        var text = "python \(interpreter.version) \(interpreter.path)\n"
        for package in packages { text += "pip \(package)\n" }
        for package in condaPackages { text += "conda \(package)\n" }
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.prefix(10).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Sorted, without duplicates, each with a canonical package name.
    static func normalise(_ specifiers: [String]) -> [String] {
        Array(Set(specifiers.map(PackageName.canonicalSpecifier))).sorted()
    }
}

/// Package-name rules of PEP 503 / PEP 508, enough to compare and report requirements.
enum PackageName {
    /// The name part of a specifier (`scikit-image>=0.20` → `scikit-image`); `nil` for URLs and VCS specs.
    static func name(of specifier: String) -> String? {
        let text = specifier.trimmingSpaces
        if text.contains("://") || text.hasPrefix("git+") || text.hasPrefix(".") || text.hasPrefix("/") { return nil }
        let name = text.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        return name.isEmpty ? nil : canonical(String(name))
    }

    /// Lowercased, with runs of `-`, `_` and `.` folded to one `-`.
    static func canonical(_ name: String) -> String {
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
    static func canonicalSpecifier(_ specifier: String) -> String {
        let text = specifier.trimmingSpaces
        guard let name = name(of: text) else { return text }
        let nameLength = text.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }.count
        let rest = text.dropFirst(nameLength).filter { $0 != " " }
        return name + rest
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

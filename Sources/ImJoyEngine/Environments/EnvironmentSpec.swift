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
        Array(Set(specifiers.map(PythonPackageName.canonicalSpecifier))).sorted()
    }
}

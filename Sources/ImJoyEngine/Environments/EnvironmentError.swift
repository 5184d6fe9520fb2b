import ImJoyCore
/// An environment could not be made; the message says which requirement failed and shows the installer's output.
public struct EnvironmentError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No usable base interpreter.
        case interpreter
        /// The installer (uv, pip, conda) could not be set up.
        case installer
        /// A requirement could not be installed.
        case install
        /// conda packages asked for, conda missing.
        case condaMissing
        /// A `repo:` or `cmd:` requirement failed.
        case workDirectoryStep
    }

    public var kind: Kind
    public var message: String
    /// The requirement that failed, when it could be told.
    public var requirement: String?
    /// The last lines of the installer's output.
    public var outputTail: [String]

    public init(_ kind: Kind, _ message: String, requirement: String? = nil, outputTail: [String] = []) {
        self.kind = kind
        self.message = message
        self.requirement = requirement
        self.outputTail = outputTail
    }

    public var description: String {
        guard !outputTail.isEmpty else { return message }
        return message + "\n--- last lines of the installer output ---\n" + outputTail.joined(separator: "\n")
    }

    /// Finds which of `requested` an installer's output blames: the first whose package name appears in a line
    /// that reads like an error.
    static func blamedRequirement(in output: [String], requested: [String]) -> String? {
        let errorLines = output.map { $0.lowercased() }.filter { line in
            ["error", "×", "because", "not found", "no matching", "no solution", "could not", "failed"].contains {
                line.contains($0)
            }
        }
        for line in errorLines {
            let words = line.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
                .map { PythonPackageName.canonical(String($0)) }
            if let match = requested.first(where: { spec in
                guard let name = PythonPackageName.name(of: spec) else { return false }
                return words.contains(name)
            }) {
                return match
            }
        }
        return nil
    }
}

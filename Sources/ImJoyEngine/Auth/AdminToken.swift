#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Crypto

/// The engine owner's token, as Jupyter has one: created at first start in `<data dir>/admin-token` (mode 0600)
/// and printed as a URL. Whoever holds it owns the persistent workspaces and lands in `default`.
public struct AdminToken: Sendable {
    /// The token text (URL-safe).
    public let value: String
    private let digest: SHA256.Digest

    init(value: String) {
        self.value = value
        self.digest = SHA256.hash(data: Data(value.utf8))
    }

    /// The file the token is kept in.
    public static func file(in dataDirectory: URL) -> URL {
        dataDirectory.appendingPathComponent("admin-token")
    }

    /// Reads the token of `dataDirectory`, creating it on first use.
    /// - Throws: ``AuthError`` when the file cannot be read or written.
    public static func load(dataDirectory: URL) throws(AuthError) -> AdminToken {
        let url = file(in: dataDirectory)
        let files = FileManager.default
        if files.fileExists(atPath: url.path) {
            guard let data = files.contents(atPath: url.path),
                case let text = String(String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace }),
                text.count >= 16
            else {
                throw AuthError(
                    "The admin token \(url.path) cannot be read or is shorter than 16 characters; fix its "
                        + "permissions, or delete it to get a new one at the next start")
            }
            return AdminToken(value: text)
        }
        let text = generate()
        do {
            try files.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw AuthError("Cannot create the data directory \(dataDirectory.path): \(error)")
        }
        guard files.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw AuthError("Cannot create the admin token \(url.path): is the data directory writable?")
        }
        return AdminToken(value: text)
    }

    /// 24 random bytes, base64url-encoded (32 characters). Drawn again when the text would begin with `-`, so that
    /// `--token <text>` never reads as a flag in a shell command or an argument parser.
    static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        while true {
            let text = JWT.base64URL(Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            if text.first != "-" { return text }
        }
    }

    /// Whether `candidate` is this token (compared in constant time).
    func matches(_ candidate: String) -> Bool {
        SHA256.hash(data: Data(candidate.utf8)) == digest
    }

    /// The user the admin token logs in as.
    public static let owner = UserInfo(
        id: "owner", roles: ["admin"], isAnonymous: false, workspaces: ["*": .admin], tokenID: "admin")
}

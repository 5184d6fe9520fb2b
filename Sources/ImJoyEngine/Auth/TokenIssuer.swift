#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Crypto
import ImJoyRPC
import MessagePack

/// Issues and verifies the engine's tokens: HS256 JWTs with Hypha-style claims
/// (`scope` = `ws:<workspace>#<r|rw|a> … cid:<client> wid:<workspace>`), signed with a secret kept in the
/// data directory so tokens survive restarts.
public final class TokenIssuer: Sendable {
    /// What a token is for: logging in (`token`) or resuming a connection (`reconnection_token`).
    public enum Kind: String, Sendable {
        case access
        case reconnection
    }

    /// A verified token.
    public struct Grant: Sendable {
        public var user: UserInfo
        public var kind: Kind
        /// `wid`: the workspace the token places its holder in.
        public var workspace: String?
        /// `cid`: the only client id that may use the token.
        public var clientID: String?
        /// When the token was issued.
        public var issuedAt: Date
        /// `jti`: the id of the recorded token this grant comes from (checked against revocations).
        public var tokenID: String?
    }

    private let key: SymmetricKey
    private static let issuer = "imjoy-engine"

    private init(key: SymmetricKey) {
        self.key = key
    }

    /// Loads the signing secret from `<dataDirectory>/jwt-secret`, creating it (mode 0600) on first use.
    public static func load(dataDirectory: URL) async throws -> TokenIssuer {
        let url = dataDirectory.appendingPathComponent("jwt-secret")
        let files = FileManager.default
        let secret: Data
        if files.fileExists(atPath: url.path) {
            guard let existing = try? Data(contentsOf: url), existing.count >= 32 else {
                throw AuthError(
                    "The token secret \(url.path) cannot be read or is too short; fix its permissions, or delete it "
                        + "to start over (every token issued so far becomes invalid)")
            }
            secret = existing
        } else {
            var rng = SystemRandomNumberGenerator()
            secret = Data((0..<48).map { _ in UInt8.random(in: 0...255, using: &rng) }).base64EncodedData()
            try files.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            guard files.createFile(atPath: url.path, contents: secret, attributes: [.posixPermissions: 0o600]) else {
                throw AuthError("Cannot create the token secret \(url.path): is the data directory writable?")
            }
        }
        return TokenIssuer(key: SymmetricKey(data: secret))
    }

    /// Signs a token for `user`.
    public func issue(
        for user: UserInfo, kind: Kind, workspace: String?, clientID: String?, lifetime: Duration
    ) async throws -> String {
        try await issue(for: user, kind: kind, workspace: workspace, clientID: clientID, lifetime: lifetime, issuedAt: Date())
    }

    /// Signs a token for `user`, issued at `now` (its `jti` is `user.tokenID`).
    public func issue(
        for user: UserInfo, kind: Kind, workspace: String?, clientID: String?, lifetime: Duration, issuedAt now: Date
    ) async throws -> String {
        var scope = user.workspaces.sorted { $0.key < $1.key }.map { "ws:\($0.key)#\($0.value.rawValue)" }
        if let clientID { scope.append("cid:\(clientID)") }
        if let workspace { scope.append("wid:\(workspace)") }
        let payload = TokenPayload(
            iss: Self.issuer, sub: user.id, iat: now.timeIntervalSince1970.rounded(.down),
            exp: now.addingTimeInterval(lifetime.seconds).timeIntervalSince1970.rounded(.down),
            scope: scope.joined(separator: " "), roles: user.roles, email: user.email, parent: user.parent,
            kind: kind.rawValue, anonymous: user.isAnonymous, jti: user.tokenID)
        return JWT.sign(json: Data(JSONText.encode(payload.messagePackValue).utf8), key: key)
    }

    /// Verifies a token and returns what it grants.
    /// - Throws: ``AuthError`` saying why the token is not accepted.
    public func verify(_ token: String, as expected: Kind) async throws(AuthError) -> Grant {
        let payload: TokenPayload = try JWT.verify(token, key: key)
        guard payload.exp > Date().timeIntervalSince1970 else {
            throw AuthError("the token has expired")
        }
        guard payload.iss == Self.issuer else {
            throw AuthError("the token was not issued by this engine")
        }
        guard payload.kind == expected.rawValue else {
            throw AuthError(
                expected == .reconnection
                    ? "a login token was sent as reconnection_token" : "a reconnection token was sent as token")
        }
        var workspaces: [String: Permission] = [:]
        var clientID: String?
        var workspace: String?
        for part in payload.scope.split(separator: " ") {
            if part.hasPrefix("ws:"), let hash = part.lastIndex(of: "#"),
                let permission = Permission(name: String(part[part.index(after: hash)...]))
            {
                workspaces[String(part[part.index(part.startIndex, offsetBy: 3)..<hash])] = permission
            } else if part.hasPrefix("cid:") {
                clientID = String(part.dropFirst(4))
            } else if part.hasPrefix("wid:") {
                workspace = String(part.dropFirst(4))
            }
        }
        let user = UserInfo(
            id: payload.sub, roles: payload.roles, isAnonymous: payload.anonymous, workspaces: workspaces,
            clientID: clientID, email: payload.email, parent: payload.parent,
            expiresAt: Date(timeIntervalSince1970: payload.exp), tokenID: payload.jti)
        return Grant(
            user: user, kind: expected, workspace: workspace, clientID: clientID,
            issuedAt: Date(timeIntervalSince1970: payload.iat), tokenID: payload.jti)
    }
}

/// Why a connection's credentials were refused; `message` is shown to the user.
public struct AuthError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The claims of an engine token (Hypha's claim names, so tokens look familiar to Hypha users).
struct TokenPayload: Codable {
    var iss: String
    var sub: String
    var iat: Double
    var exp: Double
    var scope: String
    var roles: [String]
    var email: String?
    var parent: String?
    var kind: String
    var anonymous: Bool
    /// The recorded token this one is (access) or descends from (reconnection), for revocation.
    var jti: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, iat, exp, scope, kind, anonymous, jti
        case roles = "https://amun.ai/roles"
        case email = "https://amun.ai/email"
        case parent = "https://amun.ai/parent"
    }

    /// The claims as a value for ``JSONText`` (faster than JSONEncoder; same keys as `CodingKeys`).
    var messagePackValue: MessagePackValue {
        [
            "iss": .string(iss), "sub": .string(sub), "iat": .double(iat), "exp": .double(exp),
            "scope": .string(scope), "https://amun.ai/roles": .array(roles.map { .string($0) }),
            "https://amun.ai/email": email.map { .string($0) } ?? .nil,
            "https://amun.ai/parent": parent.map { .string($0) } ?? .nil,
            "kind": .string(kind), "anonymous": .bool(anonymous), "jti": jti.map { .string($0) } ?? .nil,
        ]
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

import ImJoyRPC
import MessagePack

/// How an ``ImJoyClient`` connects.
public struct ConnectionOptions: Sendable {
    /// The client id; a random one by default. Must not contain `/` or `:`.
    public var clientID: String
    /// The workspace to join (`nil`: the engine chooses, e.g. a new temporary one for anonymous clients).
    public var workspace: String?
    /// A token from `generate_token` (`nil`: connect anonymously).
    public var token: String?
    /// Time a call may go without an answer or a heartbeat.
    public var methodTimeout: Duration
    /// Largest message accepted from the engine.
    public var maxMessageSize: Int
    /// Messages larger than this are sent in chunks of this size (each chunk is a remote call). 256 KiB, as
    /// hypha-rpc does, suits every peer; a hypha-rpc peer with default settings unpacks frames up to 512 000 bytes
    /// (the engine forwards none larger), so a client may raise it to about 500 000 (the CLI does).
    public var chunkSize: Int
    /// For `wss://`: a PEM file of certificates to trust besides the system's roots (e.g. an engine's
    /// self-signed certificate); `nil`: the system's roots only.
    public var trustedCertificatesFile: String?

    public init(
        clientID: String = "swift-" + String(UInt64.random(in: 0...UInt64.max), radix: 36),
        workspace: String? = nil, token: String? = nil, methodTimeout: Duration = .seconds(30),
        maxMessageSize: Int = 16 << 20, chunkSize: Int = 256 * 1024, trustedCertificatesFile: String? = nil
    ) {
        self.trustedCertificatesFile = trustedCertificatesFile
        self.chunkSize = chunkSize
        self.clientID = clientID
        self.workspace = workspace
        self.token = token
        self.methodTimeout = methodTimeout
        self.maxMessageSize = maxMessageSize
    }

    /// The first frame a client sends (PROTOCOL.md §1.2): its id, workspace and token as JSON.
    public var authenticationText: String {
        JSONText.encode([
            "client_id": .string(clientID), "workspace": workspace.map { .string($0) } ?? .nil,
            "token": token.map { .string($0) } ?? .nil, "reconnection_token": .nil,
        ])
    }
}

/// Why a connection failed or ended.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The engine refused the handshake (bad token, permission…); ``message`` is its reason.
        case refused
        /// The engine answered something this client cannot understand.
        case protocolViolation
        /// The URL is not an http(s) or ws(s) URL.
        case invalidURL
        /// The connection ended.
        case closed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import MessagePack

/// The first text frame of a connection (PROTOCOL.md §1.2). Missing keys mean null.
struct AuthRequest: Sendable {
    var clientID: String
    var workspace: String?
    var token: String?
    var reconnectionToken: String?

    /// Parses the auth frame, or explains what is wrong with it.
    static func parse(_ text: String) throws(HandshakeError) -> AuthRequest {
        guard case .map(let object)? = JSONText.value(from: text) else {
            throw HandshakeError(
                "Failed to decode authentication information: the first message must be a JSON object "
                    + "with client_id, workspace, token and reconnection_token", closeCode: 1003)
        }
        func string(_ key: String) throws(HandshakeError) -> String? {
            guard let value = object[key] else { return nil }
            switch value {
            case .nil: return nil
            case .string(let s): return s.isEmpty ? nil : s
            default:
                throw HandshakeError(
                    "Failed to decode authentication information: `\(key)` must be a string or null", closeCode: 1003)
            }
        }
        guard let clientID = try string("client_id") else {
            throw HandshakeError("Failed to decode authentication information: `client_id` is missing", closeCode: 1003)
        }
        if clientID.contains("/") || clientID.contains(":") || clientID.contains("*") || clientID.count > 256 {
            throw HandshakeError(
                "Invalid client_id '\(clientID.prefix(64))': it must not contain '/', ':' or '*' and be at most 256 characters",
                closeCode: 1008)
        }
        return AuthRequest(
            clientID: clientID, workspace: try string("workspace"), token: try string("token"),
            reconnectionToken: try string("reconnection_token"))
    }
}

/// Why a handshake failed: sent as `{"type":"error","message":…}`, then the socket is closed with `closeCode`.
public struct HandshakeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var closeCode: UInt16
    /// Whether the credentials were wrong (counted against the host's failed-authentication limit).
    public var isAuthenticationFailure: Bool

    public init(_ message: String, closeCode: UInt16, isAuthenticationFailure: Bool = false) {
        self.message = message
        self.closeCode = closeCode
        self.isAuthenticationFailure = isAuthenticationFailure
    }

    public var description: String { message }
}

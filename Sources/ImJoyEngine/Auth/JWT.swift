#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// Compact JSON Web Tokens signed with HMAC-SHA256 (HS256), the only kind the engine issues and accepts.
///
/// A token is `base64url(header) . base64url(claims) . base64url(HMAC-SHA256(key, first two parts))`.
enum JWT {
    private struct Header: Codable {
        var alg: String
        var typ: String?
    }

    /// The encoded header, the same for every token.
    private static let encodedHeader = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    /// Signs `claims`.
    static func sign<Claims: Encodable>(_ claims: Claims, key: SymmetricKey) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return sign(json: try encoder.encode(claims), key: key)
    }

    /// Signs claims that are already JSON.
    static func sign(json claims: Data, key: SymmetricKey) -> String {
        let signingInput = encodedHeader + "." + base64URL(claims)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key)
        return signingInput + "." + base64URL(Data(signature))
    }

    /// Checks the signature and decodes the claims (expiry is the caller's to check).
    /// - Throws: ``AuthError`` saying what is wrong with the token.
    static func verify<Claims: Decodable>(_ token: String, key: SymmetricKey) throws(AuthError) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = data(base64URL: parts[0]), let body = data(base64URL: parts[1]),
            let signature = data(base64URL: parts[2]),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else {
            throw AuthError("the token is malformed (expected a JWT issued by this engine)")
        }
        guard header.alg == "HS256" else {
            throw AuthError("the token is signed with \(header.alg), but this engine only accepts HS256")
        }
        let signingInput = Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key) else {
            throw AuthError("the token's signature is invalid (it was not issued by this engine, or its secret changed)")
        }
        do {
            return try JSONDecoder().decode(Claims.self, from: body)
        } catch {
            throw AuthError("the token's claims are not the ones this engine issues")
        }
    }

    static func base64URL(_ data: Data) -> String {
        let bytes = data.base64EncodedData().compactMap { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "+"): return UInt8(ascii: "-")
            case UInt8(ascii: "/"): return UInt8(ascii: "_")
            case UInt8(ascii: "="): return nil
            default: return byte
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func data<S: StringProtocol>(base64URL text: S) -> Data? {
        var base64 = String(
            text.map { c -> Character in
                switch c {
                case "-": return "+"
                case "_": return "/"
                default: return c
                }
            })
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

import Crypto
import Foundation
@testable import ImJoyEngine
import Testing

struct JWTTests {
    struct Claims: Codable, Equatable {
        var sub: String
        var n: Int
    }

    let key = SymmetricKey(data: Data("a secret of at least thirty-two bytes!!".utf8))

    @Test("a signed token verifies and gives its claims back")
    func roundTrip() throws {
        let token = try JWT.sign(Claims(sub: "alice", n: 3), key: key)
        #expect(token.split(separator: ".").count == 3)
        #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        let claims: Claims = try JWT.verify(token, key: key)
        #expect(claims == Claims(sub: "alice", n: 3))
    }

    @Test("tampering, another key, alg none and garbage are refused with the reason")
    func refusals() throws {
        let token = try JWT.sign(Claims(sub: "alice", n: 3), key: key)
        let parts = token.split(separator: ".").map(String.init)
        let forgedClaims = JWT.base64URL(try JSONEncoder().encode(Claims(sub: "root", n: 3)))
        let cases: [(String, String)] = [
            ("\(parts[0]).\(forgedClaims).\(parts[2])", "signature is invalid"),
            (try JWT.sign(Claims(sub: "alice", n: 3), key: SymmetricKey(size: .bits256)), "signature is invalid"),
            ("\(JWT.base64URL(Data(#"{"alg":"none"}"#.utf8))).\(parts[1]).", "only accepts HS256"),
            ("garbage", "malformed"),
            ("a.b", "malformed"),
        ]
        for (candidate, reason) in cases {
            let error = try #require(throws: AuthError.self) { let _: Claims = try JWT.verify(candidate, key: key) }
            #expect(error.message.contains(reason), "\(candidate): \(error.message)")
        }
    }
}

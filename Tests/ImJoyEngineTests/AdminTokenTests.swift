@testable import ImJoyEngine
import Testing

struct AdminTokenTests {
    /// A base64url token begins with `-` one time in 64; `imjoy run --token <it>` then read it as a flag (seen in CI).
    /// 3,000 draws would contain one with near certainty (1 − (63/64)^3000).
    @Test("a new admin token is 32 URL-safe characters and never begins with '-'")
    func newTokensNeverLookLikeAFlag() {
        let tokens = (0..<3000).map { _ in AdminToken.generate() }
        #expect(tokens.allSatisfy { $0.count == 32 })
        #expect(tokens.allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
        #expect(tokens.filter { $0.first == "-" }.isEmpty)
        #expect(Set(tokens).count == tokens.count)
    }
}

import ImJoyRPC
import Testing

struct ShortIDTests {
    @Test("ids from the pooled generator are 22 safe characters and do not repeat across pool refills")
    func pooledIDs() {
        var generator = PooledRandomNumberGenerator()
        var seen = Set<String>()
        for _ in 0..<5_000 {  // 15,000 draws: about 29 refills of the 4 KiB pool
            let id = ShortID.make(using: &generator)
            #expect(id.utf8.count == 22)
            #expect(!id.contains(where: { ".:/#".contains($0) }))
            seen.insert(id)
        }
        #expect(seen.count == 5_000)
    }

    @Test("the pooled generator's words look uniform: every bit is set about half the time")
    func bitBalance() {
        var generator = PooledRandomNumberGenerator()
        var ones = [Int](repeating: 0, count: 64)
        let draws = 4_096
        for _ in 0..<draws {
            let word = generator.next()
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { ones[bit] += 1 }
        }
        // Binomial(4096, 0.5): σ = 32; 6σ either way never fails by chance in practice.
        #expect(ones.allSatisfy { abs($0 - draws / 2) < 192 }, "\(ones)")
    }
}

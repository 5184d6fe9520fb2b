import Foundation
import MessagePack
import Testing

/// A small deterministic generator so that fuzz runs are reproducible from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

struct DecoderFuzzTests {
    /// Mutates a seed frame: flips, overwrites, inserts, deletes and truncates bytes.
    static func mutate(_ seed: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
            guard !bytes.isEmpty else { break }
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes[i] = UInt8.random(in: 0...255, using: &rng)
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
            case 3: bytes.remove(at: i)
            case 4: bytes = Array(bytes.prefix(i + 1))
            default: bytes[i] = [0xc1, 0xdd, 0xdf, 0xdb, 0xc6, 0xc9, 0x9f, 0x8f, 0xff][Int.random(in: 0..<9, using: &rng)]
            }
        }
        return bytes
    }

    @Test("100k random and mutated inputs never crash the decoder", .timeLimit(.minutes(5)))
    func fuzz() {
        let seeds = CapturedFrames.all.map { [UInt8]($0) }
        #expect(!seeds.isEmpty)
        var rng = SplitMix64(state: 0x1_0000)
        let decoder = MessagePackDecoder(limits: DecodingLimits(maxDepth: 64, maxContainerCount: 1 << 16, maxElements: 1 << 16))
        var decoded = 0
        var failed = 0
        for round in 0..<100_000 {
            let input: [UInt8]
            if round % 4 == 0 || seeds.isEmpty {
                input = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = Self.mutate(seeds[Int.random(in: 0..<seeds.count, using: &rng)], using: &rng)
            }
            do {
                _ = try decoder.decodeAll(Data(input))
                decoded += 1
            } catch {
                failed += 1
            }
        }
        #expect(decoded + failed == 100_000)
        #expect(decoded > 0 && failed > 0)
    }
}

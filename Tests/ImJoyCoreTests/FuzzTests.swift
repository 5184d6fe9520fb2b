import ImJoyCore
import Testing

/// Deterministic generator so a failing input can be reproduced from the round number.
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

struct FuzzTests {
    static let pieces: [String] = [
        "<config>", "</config>", "<config lang=\"yaml\">", "<script>", "</script>", "<window>", "</window>", "{", "}", "[",
        "]", "\"", "'", ":", ",", "\n", "  ", "<!--", "-->", "\"name\": \"x\"", "\"type\": \"window\"", "{id:'a',type:'number'}",
        "\"tags\": [\"A\"]", "\"requirements\": {\"A\": [\"pip:x\"]}", "- a\n", "key: [1, 2", "\\", "\u{0}", "é", "@", "/",
    ]

    static func mutate(_ text: String, using rng: inout SplitMix64) -> String {
        var chars = Array(text)
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            let position = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !chars.isEmpty: chars.remove(at: position)
            case 1: chars.insert(contentsOf: pieces.randomElement(using: &rng)!, at: position)
            case 2 where !chars.isEmpty: chars = Array(chars.prefix(position))
            default:
                if !chars.isEmpty { chars[position] = Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &rng))) }
            }
        }
        return String(chars)
    }

    @Test("random and mutated plugin files, ui strings, URIs, manifests and workflows never crash or hang", .timeLimit(.minutes(3)))
    func fuzz() {
        let seeds = Fixture.all.map { Fixture.text($0) }.filter { !$0.isEmpty }
        #expect(seeds.count >= 10)
        var rng = SplitMix64(state: 42)
        var parsed = 0
        var refused = 0
        for round in 0..<10_000 {
            let input: String
            if round % 5 == 0 {
                input = (0..<Int.random(in: 0...40, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined()
            } else {
                input = Self.mutate(seeds[Int.random(in: 0..<seeds.count, using: &rng)], using: &rng)
            }
            do {
                _ = try PluginLoader.load(input, file: round % 7 == 0 ? "x.imjoy.json" : "x.imjoy.html")
                parsed += 1
            } catch {
                refused += 1
            }
            _ = try? UIForm.parse(String(input.prefix(200)))
            _ = try? PluginURI.parse(String(input.prefix(80)))
            _ = try? RepositoryManifest.parse(input, url: "https://x.org/m.json")
            _ = try? Workflow.parse(input)
        }
        #expect(parsed + refused == 10_000)
        #expect(parsed > 100 && refused > 100, "parsed \(parsed), refused \(refused)")
    }
}

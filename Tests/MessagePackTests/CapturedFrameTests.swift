import Foundation
import MessagePack
import Testing

/// Frames recorded from the real Hypha server and its Python and JS clients (shared/protocol-captures).
enum CapturedFrames {
    static let all: [Data] = {
        guard let url = Bundle.module.url(forResource: "captured-frames", withExtension: "b64", subdirectory: "Fixtures"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").compactMap { Data(base64Encoded: String($0)) }
    }()
}

struct CapturedFrameTests {
    @Test("the fixture holds the captured frames")
    func fixtureLoaded() {
        #expect(CapturedFrames.all.count > 250)
    }

    @Test("every captured frame is a header map optionally followed by one body map")
    func framesDecode() throws {
        for frame in CapturedFrames.all {
            let segments = try MessagePackDecoder().decodeAll(frame)
            #expect(segments.count == 1 || segments.count == 2)
            let header = try #require(segments.first?.mapValue)
            #expect(header["type"] != nil)
        }
    }

    @Test("re-encoding a captured frame reproduces its bytes exactly")
    func byteExactReencoding() throws {
        var identical = 0
        for frame in CapturedFrames.all {
            var writer = MessagePackWriter(reservingCapacity: frame.count)
            for segment in try MessagePackDecoder().decodeAll(frame) { writer.write(segment) }
            if writer.data == frame { identical += 1 }
        }
        // Python's and JS's encoders pick the smallest format, as ours does; all frames must match.
        #expect(identical == CapturedFrames.all.count)
    }

    @Test("every truncation of a captured frame fails with a typed error, never a crash")
    func truncations() {
        for frame in CapturedFrames.all.prefix(60) {
            let (_, headerLength) = (try? MessagePackDecoder().decodeFirst(frame)) ?? (.nil, frame.count)
            for length in 1..<headerLength {
                #expect(throws: MessagePackError.self) {
                    try MessagePackDecoder().decodeFirst(frame.prefix(length))
                }
            }
        }
    }
}

import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WebSocketMasking

/// `WebSocketFrameReader` against NIO's own decoder: the same frames out of the same bytes, however the bytes are
/// split into reads.
struct FrameReaderTests {
    /// A frame as it goes on the wire and as a reader should give it back.
    struct Sample {
        var fin: Bool
        var rsv1: Bool
        var opcode: WebSocketOpcode
        var payload: [UInt8]
        var key: WebSocketMaskingKey?

        /// RFC 6455 §5.2 encoding, written here independently of both readers.
        var wire: [UInt8] {
            var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | UInt8(webSocketOpcode: opcode)]
            let maskBit: UInt8 = key == nil ? 0 : 0x80
            switch payload.count {
            case ..<126: bytes.append(maskBit | UInt8(payload.count))
            case ..<65536: bytes += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
            default: bytes += [maskBit | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
            }
            guard let key else { return bytes + payload }
            bytes += Array(key)
            return bytes + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        }
    }

    static func randomSamples(count: Int, using rng: inout some RandomNumberGenerator) -> [Sample] {
        let lengths = [0, 1, 7, 125, 126, 127, 200, 4096, 65535, 65536, 70001]
        return (0..<count).map { index in
            let control = index % 5 == 4
            let length = control ? [0, 5, 125].randomElement(using: &rng)! : lengths.randomElement(using: &rng)!
            let key = Bool.random(using: &rng) ? WebSocketMaskingKey.random(using: &rng) : nil
            return Sample(
                fin: control || Bool.random(using: &rng), rsv1: !control && index % 7 == 3,
                opcode: control ? [.ping, .pong, .connectionClose].randomElement(using: &rng)! : [.binary, .text, .continuation].randomElement(using: &rng)!,
                payload: (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }, key: key)
        }
    }

    /// Feeds `bytes` in reads of random sizes (some of one byte, to split headers) and collects the frames.
    static func frames(from bytes: [UInt8], through handler: some ChannelHandler, using rng: inout some RandomNumberGenerator)
        throws -> [WebSocketFrame]
    {
        let channel = EmbeddedChannel(handler: handler)
        var offset = 0
        var frames: [WebSocketFrame] = []
        while offset < bytes.count {
            let size = min(bytes.count - offset, Bool.random(using: &rng) ? Int.random(in: 1...3, using: &rng) : Int.random(in: 1...90_000, using: &rng))
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<(offset + size)]))
            offset += size
            while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        }
        _ = try channel.finish()
        return frames
    }

    @Test("gives the frames NIO's decoder gives, unmasked, for any split of the bytes into reads", arguments: 0..<12)
    func matchesNIOsDecoder(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let samples = Self.randomSamples(count: 40, using: &rng)
        let bytes = samples.flatMap(\.wire)
        let ours = try Self.frames(from: bytes, through: WebSocketFrameReader(maxFrameSize: 1 << 20), using: &rng)
        let nios = try Self.frames(
            from: bytes, through: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)), using: &rng)
        #expect(ours.count == samples.count)
        #expect(nios.count == samples.count)
        for (index, (frame, sample)) in zip(ours, samples).enumerated() {
            #expect(frame.maskKey == nil, "frame \(index) is handed on unmasked")
            #expect(frame.fin == sample.fin && frame.rsv1 == sample.rsv1 && !frame.rsv2 && !frame.rsv3)
            #expect(frame.opcode == sample.opcode, "frame \(index)")
            #expect(Array(frame.data.readableBytesView) == sample.payload, "payload of frame \(index) (\(sample.payload.count) bytes)")
            #expect(frame.unmaskedData == nios[index].unmaskedData && frame.opcode == nios[index].opcode)
        }
    }

    @Test("refuses what NIO's decoder refuses, and reads nothing after it", arguments: [
        (Sample(fin: true, rsv1: false, opcode: .binary, payload: Array(repeating: 1, count: 1001)), NIOWebSocketError.invalidFrameLength),
        (Sample(fin: false, rsv1: false, opcode: .ping, payload: [1]), .fragmentedControlFrame),
        (Sample(fin: true, rsv1: false, opcode: .pong, payload: Array(repeating: 2, count: 126)), .multiByteControlFrameLength),
    ])
    func refusesBadFrames(bad: Sample, error: NIOWebSocketError) throws {
        let good = Sample(fin: true, rsv1: false, opcode: .binary, payload: [9, 8, 7], key: WebSocketMaskingKey([1, 2, 3, 4]))
        let channel = EmbeddedChannel(handler: WebSocketFrameReader(maxFrameSize: 1000))
        try channel.writeInbound(ByteBuffer(bytes: good.wire))
        #expect(try channel.readInbound(as: WebSocketFrame.self)?.data == ByteBuffer(bytes: [9, 8, 7]))
        #expect(throws: error) { try channel.writeInbound(ByteBuffer(bytes: bad.wire + good.wire)) }
        try channel.writeInbound(ByteBuffer(bytes: good.wire))
        #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
        _ = try? channel.finish()
    }

    @Test("a 64-bit length beyond any limit is refused from its header, before any payload arrives")
    func hugeLength() throws {
        let channel = EmbeddedChannel(handler: WebSocketFrameReader(maxFrameSize: 1 << 20))
        #expect(throws: NIOWebSocketError.invalidFrameLength) {
            try channel.writeInbound(ByteBuffer(bytes: [0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]))
        }
        _ = try? channel.finish()
    }
}

/// A small deterministic generator, so a failing seed can be replayed (as in the ImJoyCore and MessagePack fuzz tests).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
@testable import ImJoyEngine
import MessagePack
import NIOCore
import Testing

struct HeaderFuzzTests {
    /// Real frames of a session, built the way hypha-rpc builds them.
    static let seeds: [[UInt8]] = {
        var frames: [[UInt8]] = []
        var writer = MessagePackWriter()
        writer.write([
            "type": "method", "from": "ws-a/provider", "to": "*/manager-1", "method": "services.built-in.get_service",
            "session": "Y4jafyEKYSWTwU99xMk3xQ",
        ])
        writer.write([
            "args": ["default"],
            "promise": [
                "heartbeat": ["_rtype": "method", "_rtarget": "provider-a", "_rmethod": "Y4.heartbeat", "_rpromise": false],
                "interval": 15.0,
            ],
        ])
        frames.append(writer.bytes)
        frames.append(MessagePackEncoder.encodeBytes(["type": "client_disconnected", "to": "*", "data": ["id": "peer"]]))
        var call = MessagePackWriter()
        call.write(["type": "method", "to": "ws-b/consumer", "method": "abc.resolve", "parent": "abc"])
        call.write(["args": [["_rtype": "ndarray", "_rvalue": .binary(Data(count: 64)), "_rshape": [4, 4], "_rdtype": "float32"]]])
        frames.append(call.bytes)
        return frames
    }()

    @Test("100k random and mutated frames never crash the header parser or the body check", .timeLimit(.minutes(5)))
    func fuzz() {
        var state: UInt64 = 0x5eed
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        var parsed = 0
        var refused = 0
        for round in 0..<100_000 {
            var bytes: [UInt8]
            if round % 5 == 0 {
                bytes = (0..<Int(next() % 48)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = Self.seeds[Int(next() % UInt64(Self.seeds.count))]
                for _ in 0..<(1 + next() % 6) where !bytes.isEmpty {
                    let i = Int(next() % UInt64(bytes.count))
                    switch next() % 4 {
                    case 0: bytes[i] = UInt8(truncatingIfNeeded: next())
                    case 1: bytes.remove(at: i)
                    case 2: bytes.insert(UInt8(truncatingIfNeeded: next()), at: i)
                    default: bytes = Array(bytes.prefix(i))
                    }
                }
            }
            let buffer = ByteBuffer(bytes: bytes)
            let header: RoutingHeader
            do {
                header = try RoutingHeader.parse(buffer)
                let body = buffer.getSlice(at: header.length, length: buffer.readableBytes - header.length) ?? ByteBuffer()
                try RoutingHeader.checkBody(body, session: header.session, target: "x")
            } catch {
                refused += 1
                continue
            }
            parsed += 1
            // Whatever a sender wrote, the header passed on is one well-formed map with the server's fields.
            let rewritten = header.rewritten(
                to: "a/b", senderFields: RoutingHeader.senderFields(from: "c/d", workspace: "c", user: [0xc0]))
            let end = rewritten.withUnsafeReadableBytes { try? MessagePackScanner.mapEntries(of: $0).end }
            #expect(end == rewritten.readableBytes, "round \(round): \(bytes)")
            if let decoded = try? MessagePackDecoder().decodeFirst(Data(rewritten.readableBytesView)).value {
                #expect(decoded["to"]?.stringValue == "a/b" && decoded["from"]?.stringValue == "c/d")
                #expect(decoded["type"]?.stringValue == header.type)
            }
        }
        #expect(parsed + refused == 100_000)
        #expect(parsed > 1000 && refused > 1000)
    }
}

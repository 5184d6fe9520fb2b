import Foundation
import ImJoyRPC
import Testing

struct RPCPeerTransferTests {
    static func echoService() -> RPCService {
        RPCService(
            id: "echo", visibility: .public,
            members: ["echo": .function(RPCFunction(name: "echo") { call in call.positional.first ?? .null })])
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return Data(bytes)
    }

    @Test(
        "ndarrays round-trip bit-exact, chunked above the chunk size",
        .timeLimit(.minutes(1)),
        arguments: [("float32", 4), ("uint16", 2), ("uint8", 1), ("int64", 8), ("bool", 1)])
    func ndarrays(dtype: String, itemSize: Int) async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider", chunkSize: 64 * 1024)
        let consumer = harness.makePeer("ws-b/consumer", chunkSize: 64 * 1024)
        await provider.peer.addService(Self.echoService())
        try await harness.with([provider, consumer]) { () async throws in
            let echo = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.echo.echo")
            for byteCount in [1024, 300 * 1024] {
                var data = Self.randomBytes(byteCount, seed: UInt64(byteCount))
                if dtype == "bool" { data = Data(data.map { $0 & 1 }) }
                let array = try NDArray(dtype: dtype, shape: [byteCount / itemSize / 4, 4], data: data)
                let back = try #require(try await echo(.ndarray(array)).ndarrayValue)
                #expect(back == array)
            }
        }
    }

    @Test("bytes and nested values survive chunking", .timeLimit(.minutes(1)))
    func largePlainValues() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider", chunkSize: 16 * 1024)
        let consumer = harness.makePeer("ws-b/consumer", chunkSize: 16 * 1024)
        await provider.peer.addService(Self.echoService())
        try await harness.with([provider, consumer]) { () async throws in
            let echo = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.echo.echo")
            let blob = Self.randomBytes(100_000, seed: 7)
            let value: RPCValue = ["blob": .bytes(blob), "list": .array((0..<2000).map { .int(Int64($0)) })]
            let back = try await echo(value)
            #expect(back["blob"]?.bytesValue == blob)
            #expect(back["list"]?.arrayValue?.count == 2000)
        }
    }

    @Test("NDArray converts to and from Swift numbers")
    func numbers() throws {
        let floats = NDArray([Float(1.5), -2, 3], shape: [3])
        #expect(floats.dtype == "float32")
        #expect(floats.values(as: Float.self) == [1.5, -2, 3])
        #expect(floats.values(as: Int32.self) == nil)
        let short = try NDArray(dtype: "<u2", shape: [2], data: Data([1, 0, 2, 0]))
        #expect(short.values(as: UInt16.self) == [1, 2])
        #expect(throws: RPCError.self) { try NDArray(dtype: "float32", shape: [2, 2], data: Data(count: 15)) }
    }
}

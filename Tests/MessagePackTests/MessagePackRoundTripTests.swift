import Foundation
import MessagePack
import Testing

struct MessagePackRoundTripTests {
    static let scalars: [MessagePackValue] = [
        .nil, .bool(true), .bool(false),
        .uint(0), .uint(127), .uint(128), .uint(255), .uint(256), .uint(65535), .uint(65536),
        .uint(UInt64(UInt32.max)), .uint(UInt64(UInt32.max) + 1), .uint(UInt64.max),
        .int(-1), .int(-32), .int(-33), .int(-128), .int(-129), .int(-32768), .int(-32769),
        .int(Int64(Int32.min)), .int(Int64(Int32.min) - 1), .int(Int64.min),
        .float(1.5), .float(-.infinity), .double(3.141592653589793), .double(-0.0),
        .string(""), .string("héllo ✓"), .string(String(repeating: "x", count: 31)),
        .string(String(repeating: "y", count: 32)), .string(String(repeating: "z", count: 70000)),
        .binary(Data()), .binary(Data([1, 2, 3])), .binary(Data(repeating: 7, count: 70000)),
        .ext(type: 5, data: Data([1])), .ext(type: 9, data: Data(repeating: 1, count: 16)),
        .ext(type: 100, data: Data(repeating: 2, count: 3)), .ext(type: -5, data: Data(repeating: 3, count: 300)),
        .timestamp(.init(seconds: 0)), .timestamp(.init(seconds: 1_795_617_799)),
        .timestamp(.init(seconds: 1_795_617_799, nanoseconds: 123_456_789)),
        .timestamp(.init(seconds: -5, nanoseconds: 1)), .timestamp(.init(seconds: 1 << 40, nanoseconds: 9)),
    ]

    @Test("every scalar type survives encode → decode", arguments: scalars)
    func scalarRoundTrip(value: MessagePackValue) throws {
        let encoded = MessagePackEncoder.encode(value)
        #expect(try MessagePackDecoder().decode(encoded) == value)
    }

    @Test("integers use the smallest msgpack format")
    func integerWidths() {
        let cases: [(MessagePackValue, [UInt8])] = [
            (.uint(5), [0x05]), (.uint(200), [0xcc, 200]), (.uint(300), [0xcd, 0x01, 0x2c]),
            (.uint(70000), [0xce, 0x00, 0x01, 0x11, 0x70]), (.int(-5), [0xfb]), (.int(-100), [0xd0, 0x9c]),
            (.int(-1000), [0xd1, 0xfc, 0x18]), (.int(5), [0x05]),
            (.uint(1 << 40), [0xcf, 0, 0, 1, 0, 0, 0, 0, 0]),
        ]
        for (value, bytes) in cases {
            #expect(MessagePackEncoder.encodeBytes(value) == bytes, "\(value)")
        }
    }

    @Test("nested containers, maps with non-string keys and key order survive a round trip")
    func containers() throws {
        let map = MessagePackMap([
            (.string("b"), .array([.uint(1), .nil, .map(MessagePackMap([(.uint(1), .string("one"))]))])),
            (.string("a"), .binary(Data([9]))),
            (.int(-3), .bool(true)),
            (.array([.uint(1)]), .double(2.5)),
            (.binary(Data([0xff])), .string("bin key")),
        ])
        let big = MessagePackValue.array((0..<70000).map { .uint(UInt64($0)) })
        for value in [MessagePackValue.map(map), big, .array([]), .map(MessagePackMap())] {
            let decoded = try MessagePackDecoder().decode(MessagePackEncoder.encode(value))
            #expect(decoded == value)
        }
        let decoded = try MessagePackDecoder().decode(MessagePackEncoder.encode(.map(map)))
        #expect(decoded.mapValue?.entries.map(\.key) == map.entries.map(\.key))
        #expect(decoded["a"] == .binary(Data([9])))
    }

    @Test("several concatenated objects decode from one buffer")
    func concatenated() throws {
        var writer = MessagePackWriter()
        writer.write(["type": "method", "to": "ws/a"])
        writer.write(["args": [1, 2]])
        writer.write(.nil)
        let data = writer.data
        let values = try MessagePackDecoder().decodeAll(data)
        #expect(values.count == 3)
        #expect(values[0]["to"] == "ws/a")
        let (first, used) = try MessagePackDecoder().decodeFirst(data)
        #expect(first["type"] == "method")
        #expect(try MessagePackDecoder().decodeAll(data.subdata(in: used..<data.count)).count == 2)
        #expect(throws: MessagePackError.self) { try MessagePackDecoder().decode(data) }
    }

    @Test("a large bin payload is a slice of the input, not a copy")
    func zeroCopyBinary() throws {
        var writer = MessagePackWriter()
        writer.write(["_rvalue": .binary(Data(repeating: 0xab, count: 1 << 20))])
        let frame = writer.data
        let decoded = try MessagePackDecoder().decode(frame)
        let payload = try #require(decoded["_rvalue"]?.binaryValue)
        #expect(payload.count == 1 << 20)
        let frameBase = frame.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let payloadBase = payload.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(payloadBase > frameBase && payloadBase < frameBase + UInt(frame.count))
    }

    @Test("decoding from raw memory copies bin payloads out")
    func rawMemory() throws {
        let bytes = MessagePackEncoder.encodeBytes(["x": .binary(Data([1, 2, 3]))])
        let (value, used) = try bytes.withUnsafeBytes { try MessagePackDecoder().decodeFirst($0) }
        #expect(used == bytes.count)
        #expect(value["x"] == .binary(Data([1, 2, 3])))
    }

    @Test("a raw splice produces the same bytes as encoding the whole value")
    func rawSplice() {
        var spliced = MessagePackWriter()
        spliced.writeMapHeader(count: 2)
        spliced.writeString("user")
        spliced.writeRaw(MessagePackEncoder.encodeBytes(["id": "root"]))
        spliced.writeString("n")
        spliced.writeBinaryHeader(count: 2)
        spliced.writeRaw([1, 2])
        let whole = MessagePackEncoder.encodeBytes(["user": ["id": "root"], "n": .binary(Data([1, 2]))])
        #expect(spliced.bytes == whole)
    }
}

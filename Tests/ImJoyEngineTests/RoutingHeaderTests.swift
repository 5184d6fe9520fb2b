import Foundation
@testable import ImJoyEngine
import MessagePack
import NIOCore
import Testing

struct RoutingHeaderTests {
    static let senderFields = RoutingHeader.senderFields(
        from: "ws-a/sender", workspace: "ws-a", user: MessagePackEncoder.encodeBytes(["id": "anna"]))

    static func decoded(_ buffer: ByteBuffer) throws -> MessagePackValue {
        try MessagePackDecoder().decodeFirst(Data(buffer.readableBytesView)).value
    }

    @Test("entries the server does not own pass through unchanged, in order; trusted ones are replaced")
    func rewritesOnlyTrustedKeys() throws {
        var writer = MessagePackWriter()
        writer.writeMapHeader(count: 9)
        writer.write("type"); writer.write("method")
        writer.write("from"); writer.write("ws-x/impostor")
        writer.write(7); writer.write("an integer key")
        writer.write("method"); writer.write("services.echo.echo")
        writer.write("ctx"); writer.write(["user": ["id": "root"]])
        writer.write("config"); writer.write(["nested": [1, 2.5, .binary(Data([1, 2, 3])), .nil, ["deep": true]]])
        writer.write("to"); writer.write("ws-b/receiver")
        writer.write("session"); writer.write(.string(String(repeating: "s", count: 40)))
        writer.write("user"); writer.write(["id": "root"])
        let frame = ByteBuffer(bytes: writer.bytes + MessagePackEncoder.encodeBytes(["args": [1]]))
        let header = try RoutingHeader.parse(frame)
        #expect(header.type == "method" && header.to == "ws-b/receiver" && header.method == "services.echo.echo")
        #expect(header.session == String(repeating: "s", count: 40) && header.parent == nil)
        #expect(header.length == writer.bytes.count)

        let rewritten = try Self.decoded(header.rewritten(to: "ws-b/receiver", senderFields: Self.senderFields))
        let keys = rewritten.mapValue?.entries.map { $0.key } ?? []
        #expect(keys == ["type", 7, "method", "config", "session", "to", "from", "ws", "user"])
        #expect(rewritten.mapValue?.entries.first { $0.key == 7 }?.value.stringValue == "an integer key")
        #expect(rewritten["config"] == ["nested": [1, 2.5, .binary(Data([1, 2, 3])), .nil, ["deep": true]]])
        #expect(rewritten["from"]?.stringValue == "ws-a/sender" && rewritten["ws"]?.stringValue == "ws-a")
        #expect(rewritten["user"]?["id"]?.stringValue == "anna")
        #expect(rewritten["ctx"] == nil)
    }

    @Test("long strings and large maps use the wider msgpack headers", arguments: [1, 40, 300, 70_000])
    func wideHeaders(length: Int) throws {
        let to = "ws-b/" + String(repeating: "r", count: length)
        var fields: [(MessagePackValue, MessagePackValue)] = [("type", "method"), ("to", .string(to))]
        for i in 0..<20 { fields.append((.string("k\(i)"), .uint(UInt64(i)))) }
        let frame = ByteBuffer(bytes: MessagePackEncoder.encodeBytes(.map(MessagePackMap(fields))))
        let header = try RoutingHeader.parse(frame)
        #expect(header.to == to)
        let rewritten = try Self.decoded(header.rewritten(to: to, senderFields: Self.senderFields))
        #expect(rewritten.mapValue?.count == 25)  // type, the 20 keys, to, from, ws, user
        #expect(rewritten["to"]?.stringValue == to && rewritten["k19"] == 19)
    }

    @Test("a body may not set the server's keys; keys are checked without decoding the values", arguments: [
        ("ctx", true), ("from", true), ("type", true), ("ws", true), ("user", true), ("to", true), ("args", false),
        ("with_kwargs", false), ("tox", false),
    ])
    func bodyKeys(key: String, refused: Bool) {
        let body = ByteBuffer(bytes: MessagePackEncoder.encodeBytes(.map(MessagePackMap(stringKeyed: [(key, .binary(Data(count: 1000))), ("b", 1)]))))
        if refused {
            #expect(throws: RouteError.self) { try RoutingHeader.checkBody(body, session: nil, target: "x") }
        } else {
            #expect(throws: Never.self) { try RoutingHeader.checkBody(body, session: nil, target: "x") }
        }
    }
}

import MessagePack
import NIOCore

/// The routing header of a frame, parsed without touching the body that follows it.
struct RoutingHeader {
    var map: MessagePackMap
    /// Where the header ends in the frame (the body starts there).
    var length: Int

    var type: String? { map["type"]?.stringValue }
    var to: String? { map["to"]?.stringValue }
    var session: String? { map["session"]?.stringValue }

    /// Parses the first msgpack object of `frame`, which must be a map with string `type` and `to`.
    static func parse(_ frame: ByteBuffer) throws(RouteError) -> RoutingHeader {
        let decoded: Result<(MessagePackValue, Int), MessagePackError> = frame.withUnsafeReadableBytes { raw in
            do throws(MessagePackError) {
                return .success(try MessagePackDecoder(limits: .header).decodeFirst(raw))
            } catch {
                return .failure(error)
            }
        }
        let value: MessagePackValue
        let length: Int
        switch decoded {
        case .success(let result): (value, length) = result
        case .failure(let error):
            throw RouteError("Malformed message: the routing header is not valid msgpack: \(error.description)")
        }
        guard case .map(let map) = value else {
            throw RouteError("Malformed message: a binary frame must start with a msgpack map (the routing header)")
        }
        let header = RoutingHeader(map: map, length: length)
        guard header.type != nil else {
            throw RouteError("Malformed message: the routing header has no string `type`", session: header.session)
        }
        guard header.to != nil else {
            throw RouteError("Malformed message: the routing header has no string `to`", session: header.session)
        }
        return header
    }

    /// Keys receivers trust as the server's word; a sender may not set them (hypha-rpc even takes a `ctx`
    /// map from the header as the call context, so it is dropped).
    static func isTrusted(_ key: String) -> Bool {
        // A switch on short literals: cheaper per frame than hashing into a Set.
        switch key {
        case "to", "from", "ws", "user", "ctx": true
        default: false
        }
    }

    /// Checks that the body (the extra segment, merged over the header by receivers) sets no trusted key.
    static func checkBody(_ body: ByteBuffer, session: String?, target: String) throws(RouteError) {
        guard body.readableBytes > 0 else { return }
        let keys: Result<[String], MessagePackError> = body.withUnsafeReadableBytes { raw in
            do throws(MessagePackError) {
                return .success(try MessagePackScanner.topLevelKeys(of: raw))
            } catch {
                return .failure(error)
            }
        }
        switch keys {
        case .failure(let error):
            throw RouteError(
                "Malformed message: the body after the routing header is not a msgpack map: \(error.description)",
                session: session, target: target)
        case .success(let keys):
            if let key = keys.first(where: { isTrusted($0) || $0 == "type" }) {
                throw RouteError(
                    "Refused message: its body sets `\(key)`, which only the server may set", session: session,
                    target: target)
            }
        }
    }

    /// The header re-encoded with trusted `to`, `from`, `ws` and `user` (already-encoded bytes).
    func rewritten(to: String, from: String, workspace: String, user: [UInt8]) -> ByteBuffer {
        let kept = map.entries.filter { entry in
            guard case .string(let key) = entry.key else { return true }
            return !Self.isTrusted(key)
        }
        var writer = MessagePackWriter(reservingCapacity: 160 + to.utf8.count + from.utf8.count + user.count)
        writer.writeMapHeader(count: kept.count + 4)
        for entry in kept {
            writer.write(entry.key)
            writer.write(entry.value)
        }
        writer.writeString("to")
        writer.writeString(to)
        writer.writeString("from")
        writer.writeString(from)
        writer.writeString("ws")
        writer.writeString(workspace)
        writer.writeString("user")
        writer.writeRaw(user)
        return ByteBuffer(bytes: writer.bytes)
    }
}

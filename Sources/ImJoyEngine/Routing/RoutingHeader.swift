import MessagePack
import NIOCore

/// The routing header of a frame, read without decoding it: the few fields routing needs are taken from the
/// bytes, and the entries receivers keep are passed on as the sender wrote them (no values are built, and
/// the body that follows is not touched).
struct RoutingHeader {
    /// The header fields the router reads or replaces.
    enum Field: UInt16 {
        case type = 1, to = 2, session = 4, method = 8, parent = 16, from = 32, ws = 64, user = 128, ctx = 256

        /// The field a key names, compared byte by byte (no string is made per key).
        init?(key: UnsafeRawBufferPointer) {
            func named(_ name: StaticString) -> Bool {
                key.elementsEqual(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            }
            switch key.count {
            case 2: if named("to") { self = .to } else if named("ws") { self = .ws } else { return nil }
            case 3: if named("ctx") { self = .ctx } else { return nil }
            case 4:
                if named("type") {
                    self = .type
                } else if named("from") {
                    self = .from
                } else if named("user") {
                    self = .user
                } else {
                    return nil
                }
            case 6: if named("method") { self = .method } else if named("parent") { self = .parent } else { return nil }
            case 7: if named("session") { self = .session } else { return nil }
            default: return nil
            }
        }

        /// Keys receivers trust as the server's word; a sender may not set them (hypha-rpc even takes a `ctx`
        /// map from the header as the call context, so it is dropped).
        var isTrusted: Bool {
            switch self {
            case .to, .from, .ws, .user, .ctx: true
            case .type, .session, .method, .parent: false
            }
        }

        /// The fields routing reads (the others it only drops).
        var isRead: Bool {
            switch self {
            case .type, .to, .session, .method, .parent: true
            case .from, .ws, .user, .ctx: false
            }
        }

        var name: String { "\(self)" }
    }

    var type: String?
    var to: String?
    var session: String?
    var method: String?
    var parent: String?
    /// Where the header ends in the frame (the body starts there).
    var length: Int
    /// The header's entries without the trusted ones, as they were sent: runs of bytes of `frame`.
    private var keptRuns: [Range<Int>]
    private var keptCount: Int
    private var frame: ByteBuffer

    /// Reads the first msgpack object of `frame`, which must be a map with string `type` and `to`; a key the
    /// router reads may appear once only (receivers would take the last, the router the first). Values the
    /// router does not read are checked for structure, not decoded: a receiver reports a bad string in them.
    static func parse(_ frame: ByteBuffer) throws(RouteError) -> RoutingHeader {
        let scanned: Result<RoutingHeader, RouteError> = frame.withUnsafeReadableBytes { raw in
            do throws(RouteError) {
                return .success(try scan(raw, frame: frame))
            } catch {
                return .failure(error)
            }
        }
        return try scanned.get()
    }

    private static func scan(_ raw: UnsafeRawBufferPointer, frame: ByteBuffer) throws(RouteError) -> RoutingHeader {
        let entries: [MessagePackEntrySpan]
        let end: Int
        do {
            (entries, end) = try MessagePackScanner.mapEntries(of: raw, maxDepth: DecodingLimits.header.maxDepth)
        } catch where error.code == .invalidFormatByte && error.offset == 0 && error.message == "expected a map" {
            throw RouteError("Malformed message: a binary frame must start with a msgpack map (the routing header)")
        } catch {
            throw RouteError("Malformed message: the routing header is not valid msgpack: \(error.description)")
        }
        var header = RoutingHeader(length: end, keptRuns: [], keptCount: 0, frame: frame)
        var seen: UInt16 = 0
        var duplicate: Field?
        for entry in entries {
            let field = MessagePackScanner.stringPayload(of: entry.key, in: raw).flatMap {
                Field(key: UnsafeRawBufferPointer(rebasing: raw[$0]))
            }
            guard let field else {
                header.keep(entry)
                continue
            }
            if !field.isTrusted { header.keep(entry) }
            guard field.isRead else { continue }
            if seen & field.rawValue != 0 { duplicate = duplicate ?? field }
            seen |= field.rawValue
            let value = { MessagePackScanner.string(at: entry.value, in: raw) }
            switch field {
            case .type: header.type = header.type ?? value()
            case .to: header.to = header.to ?? value()
            case .session: header.session = header.session ?? value()
            case .method: header.method = header.method ?? value()
            case .parent: header.parent = header.parent ?? value()
            case .from, .ws, .user, .ctx: break
            }
        }
        if let duplicate {
            throw RouteError(
                "Malformed message: the routing header sets `\(duplicate.name)` twice", session: header.session)
        }
        guard header.type != nil else {
            throw RouteError("Malformed message: the routing header has no string `type`", session: header.session)
        }
        guard header.to != nil else {
            throw RouteError("Malformed message: the routing header has no string `to`", session: header.session)
        }
        return header
    }

    private mutating func keep(_ entry: MessagePackEntrySpan) {
        keptCount += 1
        if let last = keptRuns.last, last.upperBound == entry.key.lowerBound {
            keptRuns[keptRuns.count - 1] = last.lowerBound..<entry.value.upperBound
        } else {
            keptRuns.append(entry.key.lowerBound..<entry.value.upperBound)
        }
    }

    /// Checks that the body (the extra segment, merged over the header by receivers) sets no trusted key.
    static func checkBody(_ body: ByteBuffer, session: String?, target: String) throws(RouteError) {
        guard body.readableBytes > 0 else { return }
        let refusedKey: Result<String?, MessagePackError> = body.withUnsafeReadableBytes { raw in
            do throws(MessagePackError) {
                for entry in try MessagePackScanner.mapEntries(of: raw).entries {
                    guard let key = MessagePackScanner.stringPayload(of: entry.key, in: raw) else { continue }
                    if let field = Field(key: UnsafeRawBufferPointer(rebasing: raw[key])), field.isTrusted || field == .type {
                        return .success(field.name)
                    }
                }
                return .success(nil)
            } catch {
                return .failure(error)
            }
        }
        switch refusedKey {
        case .failure(let error):
            throw RouteError(
                "Malformed message: the body after the routing header is not a msgpack map: \(error.description)",
                session: session, target: target)
        case .success(let key?):
            throw RouteError(
                "Refused message: its body sets `\(key)`, which only the server may set", session: session, target: target)
        case .success(nil):
            break
        }
    }

    /// The msgpack of the `from`, `ws` and `user` entries the server writes into a sender's headers (`user`
    /// already encoded); a connection computes it once.
    static func senderFields(from: String, workspace: String, user: [UInt8]) -> [UInt8] {
        var writer = MessagePackWriter(reservingCapacity: 16 + from.utf8.count + workspace.utf8.count + user.count)
        writer.writeString("from")
        writer.writeString(from)
        writer.writeString("ws")
        writer.writeString(workspace)
        writer.writeString("user")
        writer.writeRaw(user)
        return writer.bytes
    }

    /// The header with the sender's entries as sent, except the trusted ones, then `to` and `senderFields`
    /// (from ``senderFields(from:workspace:user:)``).
    func rewritten(to: String, senderFields: [UInt8]) -> ByteBuffer {
        let keptBytes = keptRuns.reduce(0) { $0 + $1.count }
        var out = ByteBufferAllocator().buffer(capacity: 16 + keptBytes + to.utf8.count + senderFields.count)
        out.writeMessagePackMapHeader(count: keptCount + 4)
        frame.withUnsafeReadableBytes { raw in
            for run in keptRuns { out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[run])) }
        }
        out.writeMessagePackString("to")
        out.writeMessagePackString(to)
        out.writeBytes(senderFields)
        return out
    }
}

extension ByteBuffer {
    /// Writes `string` as a msgpack `str`.
    mutating func writeMessagePackString(_ string: String) {
        let count = string.utf8.count
        switch count {
        case 0..<32: writeInteger(UInt8(0xa0 | count))
        case 32..<256: writeInteger(UInt16(0xd900 | count))
        case 256..<65536:
            writeInteger(UInt8(0xda))
            writeInteger(UInt16(count))
        default:
            writeInteger(UInt8(0xdb))
            writeInteger(UInt32(count))
        }
        writeString(string)
    }

    /// Writes the header of a msgpack map of `count` entries.
    mutating func writeMessagePackMapHeader(count: Int) {
        switch count {
        case 0..<16: writeInteger(UInt8(0x80 | count))
        case 16..<65536:
            writeInteger(UInt8(0xde))
            writeInteger(UInt16(count))
        default:
            writeInteger(UInt8(0xdf))
            writeInteger(UInt32(count))
        }
    }
}

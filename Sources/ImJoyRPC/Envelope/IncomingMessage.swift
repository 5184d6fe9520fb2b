#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MessagePack

/// A decoded frame: the routing header (`main`), merged with the optional body (`extra`) as hypha-rpc does.
struct IncomingMessage: Sendable {
    /// Headers up to this many entries are searched by a scan when merging the body in.
    static let scannedHeaderSize = 16

    /// The header alone: what the server stamped (the context of the call).
    var header: MessagePackMap
    /// Header and body merged (body keys win).
    var merged: MessagePackMap

    init(header: MessagePackMap, body: MessagePackMap?) {
        self.header = header
        var merged = header
        if let body {
            // Linear in the body's size. A header is a handful of keys, so a body key is looked up in it by a scan
            // (hashing every key into a dictionary cost more per message); a large header gets an index.
            let headerIndex: [String: Int]? =
                header.count <= Self.scannedHeaderSize
                ? nil
                : Dictionary(
                    header.entries.enumerated().compactMap { i, entry in entry.key.stringValue.map { ($0, i) } },
                    uniquingKeysWith: { _, last in last })
            merged.entries.reserveCapacity(header.count + body.count)
            for entry in body.entries {
                guard case .string(let key) = entry.key else { continue }
                let index =
                    headerIndex.map { $0[key] }
                    ?? header.entries.lastIndex { if case .string(let k) = $0.key { return k == key } else { return false } }
                if let i = index {
                    merged.entries[i].value = entry.value
                } else {
                    merged.entries.append(entry)
                }
            }
        }
        self.merged = merged
    }

    /// Decodes a frame of one or two msgpack maps.
    static func decode(_ frame: Data, limits: DecodingLimits) throws -> IncomingMessage {
        let decoder = MessagePackDecoder(limits: limits)
        let (first, used) = try decoder.decodeFirst(frame)
        guard case .map(let header) = first else {
            throw RPCError(.invalidMessage, "a frame must start with a msgpack map (the routing header)")
        }
        var body: MessagePackMap?
        if used < frame.count {
            let rest = frame[(frame.startIndex + used)...]
            guard case .map(let map) = try decoder.decode(rest) else {
                throw RPCError(.invalidMessage, "the second segment of a frame must be a msgpack map")
            }
            body = map
        }
        return IncomingMessage(header: header, body: body)
    }

    var type: String? { merged["type"]?.stringValue }
    var from: String? { header["from"]?.stringValue }
    var to: String? { header["to"]?.stringValue }
    var method: String? { header["method"]?.stringValue }
    var session: String? { header["session"]?.stringValue }
    var parent: String? { header["parent"]?.stringValue }
    var workspace: String? { header["ws"]?.stringValue }
    var user: MessagePackValue? { header["user"] }
}

/// Builds outgoing frames: `msgpack(main)` followed by `msgpack(extra)` when there is one.
enum FrameBuilder {
    static func frame(main: MessagePackMap, extra: MessagePackMap?) -> Data {
        var writer = MessagePackWriter()
        writer.write(.map(main))
        if let extra, !extra.isEmpty { writer.write(.map(extra)) }
        return writer.data
    }
}

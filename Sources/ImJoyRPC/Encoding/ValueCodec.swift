#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import MessagePack

/// Converts between ``RPCValue`` and the msgpack form of PROTOCOL.md §3.6.
public enum ValueCodec {
    /// Encodes a value that holds no functions or generators (service config, plain data).
    /// Functions and generators become `nil`.
    static func plain(_ value: RPCValue) -> MessagePackValue {
        var sink = EncodingSink(peerAddress: "", serverBaseURL: "", sessionID: nil)
        return encode(value, into: &sink, allowCallables: false)
    }

    /// Encodes a value; local functions and generators are recorded in `sink` so the peer can serve them.
    static func encode(_ value: RPCValue, into sink: inout EncodingSink, allowCallables: Bool = true)
        -> MessagePackValue
    {
        switch value {
        case .null: return .nil
        case .bool(let b): return .bool(b)
        case .int(let i): return .integer(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bytes(let d): return .binary(d)
        case .encoded(let v): return v
        case .array(let values):
            return .array(values.map { encode($0, into: &sink, allowCallables: allowCallables) })
        case .object(let object):
            if allowCallables, sink.allowsInterfaces, object["_rintf"]?.boolValue == true,
                object.contains(where: { entry in
                    guard !entry.key.hasPrefix("_"), case .function(let f) = entry.value, case .local = f.kind else {
                        return false
                    }
                    return true
                })
            {
                return sink.registerInterface(object)
            }
            var map = MessagePackMap()
            map.entries.reserveCapacity(object.count)
            for (key, v) in object {
                map.entries.append((key: .string(key), value: encode(v, into: &sink, allowCallables: allowCallables)))
            }
            return .map(map)
        case .ndarray(let array):
            return [
                "_rtype": "ndarray", "_rvalue": .binary(array.data),
                "_rshape": .array(array.shape.map { .integer($0) }), "_rdtype": .string(array.dtype),
            ]
        case .error(let error):
            return ["_rtype": "error", "_rvalue": .string(error.message), "_rtrace": .string(error.traceback)]
        case .function(let function):
            guard allowCallables else { return .nil }
            switch function.kind {
            case .remote(let remote): return .map(remote.descriptor)
            case .local(let name, let doc, let body):
                return sink.storeFunction(name: name, doc: doc, body: body)
            }
        case .generator(let generator):
            guard allowCallables else { return .nil }
            switch generator.kind {
            case .remote(let next, let close):
                var map = next.descriptor
                map["_rtype"] = "generator"
                if let close { map["_rclose_method"] = .string(close.method) }
                return .map(map)
            case .local(let next, let close):
                return sink.storeGenerator(next: next, close: close)
            }
        }
    }

    /// Decodes a received value. Functions become ``RemoteFunction``s bound to `peer`; relative targets are
    /// completed with `remoteWorkspace`; `remoteParent` is the caller's session the functions belong to.
    static func decode(
        _ value: MessagePackValue, peer: RPCPeer, remoteWorkspace: String, remoteParent: String?
    ) -> RPCValue {
        switch value {
        case .nil: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .encoded(value)
        case .float(let f): return .double(Double(f))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .binary(let d): return .bytes(d)
        case .ext, .timestamp, .raw: return .encoded(value)
        case .array(let values):
            return .array(
                values.map { decode($0, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent) })
        case .map(let map):
            if let type = map["_rtype"]?.stringValue,
                let special = decodeSpecial(
                    type, map, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent)
            {
                return special
            }
            var object = RPCObject()
            for entry in map.entries {
                guard case .string(let key) = entry.key else { return .encoded(value) }
                object[key] = decode(
                    entry.value, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent)
            }
            return .object(object)
        }
    }

    private static func decodeSpecial(
        _ type: String, _ map: MessagePackMap, peer: RPCPeer, remoteWorkspace: String, remoteParent: String?
    ) -> RPCValue? {
        switch type {
        case "method":
            return remoteFunction(map, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent)
                .map { .function(RPCFunction(remote: $0)) }
        case "ndarray":
            guard let dtype = map["_rdtype"]?.stringValue, let shape = map["_rshape"]?.arrayValue,
                let data = bytes(of: map["_rvalue"])
            else { return nil }
            let dims = shape.compactMap(\.intValue)
            guard dims.count == shape.count, let array = try? NDArray(dtype: dtype, shape: dims, data: data)
            else { return nil }
            return .ndarray(array)
        case "typedarray":
            guard let dtype = map["_rdtype"]?.stringValue, let data = bytes(of: map["_rvalue"]),
                let size = NDArray.itemSize(of: dtype), size > 0,
                let array = try? NDArray(dtype: dtype, shape: [data.count / size], data: data)
            else { return nil }
            return .ndarray(array)
        case "memoryview":
            return bytes(of: map["_rvalue"]).map { .bytes($0) }
        case "error":
            let message = map["_rvalue"]?.stringValue ?? "unknown remote error"
            return .error(RemoteError(message: message, traceback: map["_rtrace"]?.stringValue ?? ""))
        case "set", "orderedmap":
            guard let values = map["_rvalue"] else { return nil }
            return decode(values, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent)
        case "generator":
            var nextMap = map
            nextMap["_rtype"] = "method"
            guard
                let next = remoteFunction(
                    nextMap, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent)
            else { return nil }
            var close: RemoteFunction?
            if let closeMethod = map["_rclose_method"]?.stringValue {
                var closeMap = nextMap
                closeMap["_rmethod"] = .string(closeMethod)
                close = remoteFunction(
                    closeMap, peer: peer, remoteWorkspace: remoteWorkspace, remoteParent: remoteParent)
            }
            return .generator(RPCGenerator(remoteNext: next, close: close))
        default:
            return nil
        }
    }

    static func remoteFunction(
        _ map: MessagePackMap, peer: RPCPeer, remoteWorkspace: String, remoteParent: String?
    ) -> RemoteFunction? {
        guard let rawTarget = map["_rtarget"]?.stringValue, let method = map["_rmethod"]?.stringValue else {
            return nil
        }
        var descriptor = map
        let target = Address.absolute(rawTarget, in: remoteWorkspace)
        descriptor["_rtarget"] = .string(target)
        let promise: RemoteFunction.PromiseMode
        switch map["_rpromise"] {
        case .string("*"): promise = .compact
        case .bool(true): promise = .explicit
        default: promise = .none
        }
        return RemoteFunction(
            target: target, method: method, promise: promise, name: map["_rname"]?.stringValue,
            descriptor: descriptor, remoteParent: remoteParent, peer: peer)
    }

    private static func bytes(of value: MessagePackValue?) -> Data? {
        switch value {
        case .binary(let d)?: return d
        case .array(let pieces)?:
            var joined = Data()
            for piece in pieces {
                guard case .binary(let d) = piece else { return nil }
                joined.append(d)
            }
            return joined
        default: return nil
        }
    }
}

extension ValueCodec {
    /// Encodes a value for storage or relaying (functions and generators become their descriptors or `nil`).
    public static func encodePlain(_ value: RPCValue) -> MessagePackValue {
        var sink = EncodingSink(peerAddress: "", serverBaseURL: "", sessionID: nil)
        return encode(value, into: &sink, allowCallables: false)
    }
}

import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MessagePack

/// The `built-in` service every peer offers (PROTOCOL.md §4.1): `ping`, `get_service` and `message_cache`.
enum BuiltInService {
    static func info(workspace: String, clientID: String) -> MessagePackValue {
        func function(_ name: String) -> MessagePackValue {
            ["type": "function", "function": ["name": .string(name), "description": ""]]
        }
        return [
            "config": ["require_context": true, "visibility": "public", "api_version": 3, "workspace": .string(workspace)],
            "id": .string("\(workspace)/\(clientID):built-in"),
            "name": .string("Builtin services for \(workspace)/\(clientID)"),
            "description": .nil, "type": "built-in", "docs": .nil, "app_id": "*",
            "service_schema": [
                "ping": function("ping"), "get_service": function("get_service"),
                "message_cache": [
                    "create": function("create"), "append": function("append"), "set": function("set"),
                    "process": function("process"), "remove": function("remove"),
                ],
            ],
        ]
    }
}

extension RPCPeer {
    /// Handles `services.built-in.<path>` at once, in arrival order (chunks must be stored before `process`).
    func handleBuiltIn(path: ArraySlice<Substring>, message: IncomingMessage, from: String, reply: ReplyChannel?)
        -> Work?
    {
        let name = path.joined(separator: ".")
        let arguments = message.merged["args"]?.arrayValue ?? []
        var work: [Work] = []
        let result: Result<MessagePackValue, RPCError>
        do throws(RPCError) {
            switch name {
            case "ping":
                result = .success("pong")
            case "get_service":
                let id = arguments.first?.stringValue ?? "default"
                result = .success(try encodedService(id, callerWorkspace: message.workspace ?? Address.workspace(of: from)))
            case "message_cache.create":
                let key = try Self.key(arguments)
                touchSession(key, from: from, heartbeat: arguments.count > 1 ? arguments[1].boolValue : nil)
                let open = chunkAssemblies.keys.lazy.filter { $0.sender == from }.count
                if open >= configuration.maxAssembliesPerSender, chunkAssemblies[.init(sender: from, key: key)] == nil {
                    throw RPCError(
                        .tooLarge, "\(from) already has \(open) chunked messages in progress; finish or remove one first")
                }
                chunkAssemblies[.init(sender: from, key: key)] = ChunkAssembly()
                result = .success(.nil)
            case "message_cache.append", "message_cache.set":
                let key = try Self.key(arguments)
                let isSet = name.hasSuffix("set")
                let dataIndex = isSet ? 2 : 1
                guard arguments.count > dataIndex, case .binary(let data) = arguments[dataIndex] else {
                    throw RPCError(.invalidMessage, "message_cache.\(isSet ? "set" : "append") needs a bytes chunk")
                }
                touchSession(key, from: from, heartbeat: arguments.count > dataIndex + 1 ? arguments[dataIndex + 1].boolValue : nil)
                let assemblyKey = ChunkAssembly.Key(sender: from, key: key)
                guard var assembly = chunkAssemblies[assemblyKey] else {
                    throw RPCError(.invalidMessage, "Message with key \(key) does not exist.")
                }
                let index = isSet ? (arguments[1].intValue ?? -1) : assembly.chunks.count
                guard index >= 0, index < 1 << 20 else {
                    throw RPCError(.invalidMessage, "message_cache.set needs a chunk index ≥ 0")
                }
                chunkAssemblies[assemblyKey] = nil
                try assembly.set(index, data, limit: configuration.maxAssembledMessageSize)
                chunkAssemblies[assemblyKey] = assembly
                result = .success(.nil)
            case "message_cache.remove":
                let key = try Self.key(arguments)
                chunkAssemblies[.init(sender: from, key: key)] = nil
                result = .success(.nil)
            case "message_cache.process":
                let key = try Self.key(arguments)
                touchSession(key, from: from, heartbeat: arguments.count > 1 ? arguments[1].boolValue : nil)
                guard let assembly = chunkAssemblies.removeValue(forKey: .init(sender: from, key: key)) else {
                    throw RPCError(.invalidMessage, "Message with key \(key) does not exist.")
                }
                let assembled: IncomingMessage
                do {
                    assembled = try IncomingMessage.decode(assembly.joined(), limits: configuration.decodingLimits)
                } catch let error as RPCError {
                    throw error
                } catch {
                    throw RPCError(.invalidMessage, "chunked message \(key) is not valid msgpack: \(error)")
                }
                if assembled.method?.hasPrefix("services.built-in.") == true {
                    throw RPCError(.invalidMessage, "a chunked message may not call the built-in service")
                }
                work = dispatch(trusted(assembled, like: message))
                result = .success(.nil)
            default:
                throw RPCError(.methodNotFound, "Method not found: \(from):services.built-in.\(name)")
            }
        } catch {
            result = .failure(error)
        }
        let followUp = work
        guard let reply else {
            if followUp.isEmpty { return nil }
            return { for w in followUp { await w() } }
        }
        let answer: Result<RPCValue, any Error> = result.map { .encoded($0) }.mapError { $0 }
        return {
            await self.answer(reply, with: answer)
            for w in followUp { await w() }
        }
    }

    /// Replaces the routing fields of an assembled message by the trusted ones of the `process` call.
    private func trusted(_ assembled: IncomingMessage, like carrier: IncomingMessage) -> IncomingMessage {
        var header = assembled.header
        var merged = assembled.merged
        for key in ["from", "to", "ws", "user"] {
            header[key] = carrier.header[key]
            merged[key] = carrier.header[key]
        }
        var result = assembled
        result.header = header
        result.merged = merged
        return result
    }

    /// A chunk of a large answer counts as a heartbeat of the call it answers (only from that call's target).
    private func touchSession(_ key: String, from: String, heartbeat: Bool?) {
        guard heartbeat == true, var session = sessions[key], session.target == from else { return }
        session.reply?.heartbeat()
        session.lastActivity = .now
        sessions[key] = session
    }

    private static func key(_ arguments: [MessagePackValue]) throws(RPCError) -> String {
        guard let key = arguments.first?.stringValue else {
            throw RPCError(.invalidMessage, "message_cache calls need a string key as first argument")
        }
        return key
    }

    /// A local service as the built-in `get_service` returns it: functions replaced by descriptors.
    func encodedService(_ id: String, callerWorkspace: String) throws(RPCError) -> MessagePackValue {
        if id == "built-in" {
            var map: MessagePackMap = [
                "id": "built-in", "name": .string("Builtin services for \(address)"), "type": "built-in",
                "config": ["require_context": true, "visibility": "public", "api_version": 3],
            ]
            let sink = EncodingSink(peerAddress: address, serverBaseURL: configuration.serverBaseURL, sessionID: nil)
            map["ping"] = sink.methodDescriptor(service: "built-in", path: "ping", name: "ping")
            map["get_service"] = sink.methodDescriptor(service: "built-in", path: "get_service", name: "get_service")
            var cache = MessagePackMap()
            for name in ["create", "append", "set", "process", "remove"] {
                cache[name] = sink.methodDescriptor(service: "built-in", path: "message_cache.\(name)", name: name)
            }
            map["message_cache"] = .map(cache)
            return .map(map)
        }
        guard let service = services[id], !id.hasPrefix("_rintf_") else {
            throw RPCError(.methodNotFound, "Service not found: \(id)")
        }
        if service.visibility == .protected, callerWorkspace != configuration.workspace,
            !service.authorizedWorkspaces.contains(callerWorkspace)
        {
            throw RPCError(.permissionDenied, "Permission denied for protected service: \(id)")
        }
        let sink = EncodingSink(peerAddress: address, serverBaseURL: configuration.serverBaseURL, sessionID: nil)
        var map: MessagePackMap = ["id": .string(id)]
        if let name = service.name { map["name"] = .string(name) }
        if let description = service.description { map["description"] = .string(description) }
        map["config"] = .map(service.configMap(workspace: nil))
        for (key, value) in service.members where !key.hasPrefix("_") {
            map[key] = describe(value, service: id, path: key, sink: sink)
        }
        map["type"] = .string(service.type)
        return .map(map)
    }

    private func describe(_ value: RPCValue, service: String, path: String, sink: EncodingSink) -> MessagePackValue {
        switch value {
        case .function(let f):
            return sink.methodDescriptor(service: service, path: path, name: f.name ?? path)
        case .object(let object):
            var map = MessagePackMap()
            for (key, v) in object {
                map[key] = describe(v, service: service, path: "\(path).\(key)", sink: sink)
            }
            return .map(map)
        default:
            return ValueCodec.plain(value)
        }
    }
}

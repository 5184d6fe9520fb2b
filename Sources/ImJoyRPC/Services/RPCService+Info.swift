import MessagePack

extension RPCService {
    /// The config map as sent to the manager and returned by the built-in `get_service`.
    func configMap(workspace: String?) -> MessagePackMap {
        var config = MessagePackMap()
        config["visibility"] = .string(visibility.rawValue)
        if !authorizedWorkspaces.isEmpty {
            config["authorized_workspaces"] = .array(authorizedWorkspaces.map { .string($0) })
        }
        for (key, value) in extraConfig {
            config[key] = ValueCodec.plain(value)
        }
        if let workspace { config["workspace"] = .string(workspace) }
        return config
    }

    /// The service info registered with the manager (`register_service`'s argument).
    func info(workspace: String, clientID: String) -> MessagePackValue {
        var info = MessagePackMap()
        info["config"] = .map(configMap(workspace: workspace))
        info["id"] = .string("\(workspace)/\(clientID):\(id)")
        info["name"] = .string(name ?? id)
        info["description"] = description.map { .string($0) } ?? .nil
        info["type"] = .string(type)
        info["docs"] = docs.map { .string($0) } ?? .nil
        info["app_id"] = "*"
        info["service_schema"] = .map(Self.schema(of: members))
        return .map(info)
    }

    /// A JSON-schema-like description of each member, as hypha-rpc sends it.
    static func schema(of object: RPCObject) -> MessagePackMap {
        var schema = MessagePackMap()
        for (key, value) in object where !key.hasPrefix("_") {
            switch value {
            case .function(let f):
                schema[key] = [
                    "type": "function",
                    "function": ["name": .string(f.name ?? key), "description": ""],
                ]
            case .object(let nested):
                schema[key] = .map(Self.schema(of: nested))
            case .string: schema[key] = ["type": "string"]
            case .int, .double: schema[key] = ["type": "number"]
            case .bool: schema[key] = ["type": "boolean"]
            case .null: schema[key] = ["type": "null"]
            default: schema[key] = .map(MessagePackMap())
            }
        }
        return schema
    }
}

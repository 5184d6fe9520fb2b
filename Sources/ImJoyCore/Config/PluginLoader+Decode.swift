extension PluginLoader {
    /// Reads a config object into a ``PluginConfig``: tag resolution, legacy names, types and defaults.
    static func decode(
        _ node: ConfigNode, block: SourceLocation, file: String?, tag requestedTag: String?,
        warnings: inout [PluginWarning]
    ) throws(PluginParseError) -> PluginConfig {
        guard let entries = node.entries else {
            throw PluginParseError(
                .invalidField, "the config must be an object of fields, found \(node.kindDescription)", at: node.location,
                file: file)
        }
        var fields: [String: ConfigNode] = [:]
        var keyLocations: [String: SourceLocation] = [:]
        for entry in entries {
            if fields[entry.key] != nil {
                warnings.append(PluginWarning("field '\(entry.key)' appears twice; the last one is used", at: entry.keyLocation))
            }
            fields[entry.key] = entry.value
            keyLocations[entry.key] = entry.keyLocation
        }
        let reader = FieldReader(file: file)

        // name
        guard let nameNode = fields["name"] else {
            throw PluginParseError(.missingField, "the config has no \"name\"; every plugin needs a unique name", at: node.location, file: file)
        }
        let name = try reader.string(nameNode, "name").trimmingSpaces
        if name.isEmpty || name.contains("/") {
            throw PluginParseError(
                .invalidField, "plugin name '\(name)' is invalid: it must be non-empty and must not contain '/'",
                at: nameNode.location, file: file)
        }

        // tags and the selected tag
        let tags = try fields["tags"].map { node throws(PluginParseError) in try reader.strings(node, "tags") } ?? []
        var tag = requestedTag ?? tags.first
        if let requested = requestedTag, !tags.contains(requested) {
            warnings.append(PluginWarning("tag '\(requested)' is not one of the plugin's tags \(tags)", at: fields["tags"]?.location))
            if tags.isEmpty { tag = nil }
        }

        // per-tag fields
        for key in tagConfigurable {
            guard let value = fields[key], let options = value.entries, key != "inputs" else { continue }
            guard let tag, !tags.isEmpty else {
                throw PluginParseError(
                    .tagsRequired,
                    "'\(key)' is an object, which means one value per tag, but the plugin has no \"tags\": "
                        + "You must use 'tags' with configurable fields (or give '\(key)' a plain value)",
                    at: keyLocations[key] ?? value.location, file: file)
            }
            if let chosen = options.last(where: { $0.key == tag })?.value {
                fields[key] = chosen
            } else {
                fields[key] = nil
                warnings.append(PluginWarning("'\(key)' has no value for tag '\(tag)'; it is left unset", at: value.location))
            }
        }

        // api_version and type (with legacy mode)
        let apiVersion = try fields["api_version"].map { node throws(PluginParseError) in try reader.versionString(node, "api_version") }
        var typeNode = fields["type"]
        if typeNode == nil, let mode = fields["mode"] {
            typeNode = mode
            warnings.append(PluginWarning("'mode' is the pre-0.1.2 name of 'type'; write \"type\"", at: keyLocations["mode"]))
        }
        guard let typeNode else {
            throw PluginParseError(
                .missingField, "the config of '\(name)' has no \"type\"; use one of \(PluginType.accepted)",
                at: node.location, file: file)
        }
        let typeName = try reader.string(typeNode, "type")
        let type: PluginType
        if let known = PluginType(rawValue: typeName) {
            type = known
        } else if let legacy = PluginType.legacyNames[typeName] {
            type = legacy
            warnings.append(PluginWarning("type '\(typeName)' is deprecated; use '\(legacy.rawValue)'", at: typeNode.location))
        } else {
            throw PluginParseError(
                .unknownType, "unknown plugin type '\(typeName)'; use one of \(PluginType.accepted)", at: typeNode.location,
                file: file)
        }
        if type == .webPythonWindow {
            warnings.append(PluginWarning("type 'web-python-window' is deprecated since api_version 0.1.8", at: typeNode.location))
        }

        // the rest
        let requirementItems = try fields["requirements"].map { node throws(PluginParseError) in try reader.list(node, "requirements") } ?? []
        let requirements = try RequirementParser.parse(requirementItems, for: type, file: file, warnings: &warnings)
        let env = try fields["env"].map { node throws(PluginParseError) in try reader.env(node) } ?? []
        let ui = try fields["ui"].map { node throws(PluginParseError) in try reader.ui(node) } ?? ""
        do {
            _ = try UIForm.parse(ui)
        } catch {
            var located = error
            located.file = file
            if let uiNode = fields["ui"] {
                let column = error.location?.column ?? 1
                located.location =
                    uiNode.stringValue != nil
                    ? SourceLocation(line: uiNode.location.line, column: uiNode.location.column + column) : uiNode.location
            }
            located.message = "in 'ui': " + error.message
            throw located
        }

        var metadata: [String: ConfigNode] = [:]
        var unknown: [String: ConfigNode] = [:]
        for entry in entries where !modelFields.contains(entry.key) {
            if metadataFields.contains(entry.key) {
                metadata[entry.key] = entry.value
            } else {
                unknown[entry.key] = entry.value
                warnings.append(PluginWarning("unknown field '\(entry.key)' is kept but not used", at: entry.keyLocation))
            }
        }

        return PluginConfig(
            name: name, type: type,
            version: try fields["version"].map { node throws(PluginParseError) in try reader.versionString(node, "version") } ?? "0.1.0",
            apiVersion: apiVersion,
            description: try reader.optionalString(fields["description"], "description"),
            tags: tags, tag: tags.isEmpty ? nil : tag,
            labels: try fields["labels"].map { node throws(PluginParseError) in try reader.strings(node, "labels") } ?? [],
            ui: ui,
            cover: try fields["cover"].map { node throws(PluginParseError) in try reader.strings(node, "cover", allowSingle: true) } ?? [],
            icon: (try reader.optionalString(fields["icon"], "icon")).flatMap { $0.isEmpty ? nil : $0 } ?? "extension",
            inputs: try fields["inputs"].flatMap { node throws(PluginParseError) in try Schemas.normalise(node, "inputs", allowArray: true, file: file) },
            outputs: try fields["outputs"].flatMap { node throws(PluginParseError) in try Schemas.normalise(node, "outputs", allowArray: false, file: file) },
            flags: try fields["flags"].map { node throws(PluginParseError) in try reader.strings(node, "flags") } ?? [],
            env: env, requirements: requirements,
            dependencies: try fields["dependencies"].map { node throws(PluginParseError) in try reader.strings(node, "dependencies") } ?? [],
            permissions: try fields["permissions"].map { node throws(PluginParseError) in try reader.strings(node, "permissions") } ?? [],
            cmd: try reader.optionalString(fields["cmd"], "cmd"),
            runnable: try reader.optionalBool(fields["runnable"], "runnable") ?? true,
            defaults: try fields["defaults"].flatMap { node throws(PluginParseError) in try reader.objectOrNull(node, "defaults") },
            baseFrame: try reader.optionalString(fields["base_frame"], "base_frame"),
            baseWorker: try reader.optionalString(fields["base_worker"], "base_worker"),
            passive: try reader.optionalBool(fields["passive"], "passive") ?? false,
            metadata: metadata, unknownFields: unknown)
    }
}

/// Typed reads of config fields with errors that name the field and say what was expected.
struct FieldReader {
    let file: String?

    func fail(_ node: ConfigNode, _ field: String, expected: String) -> PluginParseError {
        PluginParseError(
            .invalidField, "'\(field)' must be \(expected), found \(node.kindDescription)", at: node.location, file: file)
    }

    func string(_ node: ConfigNode, _ field: String) throws(PluginParseError) -> String {
        guard let s = node.stringValue else { throw fail(node, field, expected: "a string") }
        return s
    }

    func optionalString(_ node: ConfigNode?, _ field: String) throws(PluginParseError) -> String? {
        guard let node, !node.isNull else { return nil }
        return try string(node, field)
    }

    /// Versions are strings, but `1.0` written as a number is accepted.
    func versionString(_ node: ConfigNode, _ field: String) throws(PluginParseError) -> String {
        if let s = node.stringValue { return s }
        if case .number = node.kind { return node.json }
        throw fail(node, field, expected: "a version string like \"0.1.0\"")
    }

    func optionalBool(_ node: ConfigNode?, _ field: String) throws(PluginParseError) -> Bool? {
        guard let node, !node.isNull else { return nil }
        guard let b = node.boolValue else { throw fail(node, field, expected: "true or false") }
        return b
    }

    /// A list; a single value counts as a one-element list, null as empty.
    func list(_ node: ConfigNode, _ field: String) throws(PluginParseError) -> [ConfigNode] {
        switch node.kind {
        case .null: return []
        case .array(let values): return values
        case .string: return [node]
        default: throw fail(node, field, expected: "a string or an array of strings")
        }
    }

    func strings(_ node: ConfigNode, _ field: String, allowSingle: Bool = false) throws(PluginParseError) -> [String] {
        if allowSingle, let s = node.stringValue { return [s] }
        if node.isNull { return [] }
        guard let values = node.arrayValue else { throw fail(node, field, expected: "an array of strings") }
        var result: [String] = []
        for value in values {
            guard let s = value.stringValue else { throw fail(value, "\(field)[\(result.count)]", expected: "a string") }
            result.append(s)
        }
        return result
    }

    func objectOrNull(_ node: ConfigNode, _ field: String) throws(PluginParseError) -> ConfigNode? {
        if node.isNull { return nil }
        guard node.entries != nil else { throw fail(node, field, expected: "an object") }
        return node
    }

    func env(_ node: ConfigNode) throws(PluginParseError) -> [EnvironmentItem] {
        var result: [EnvironmentItem] = []
        for item in try list(node, "env") {
            if let command = item.stringValue {
                if !command.trimmingSpaces.isEmpty { result.append(.command(command)) }
            } else if item.entries != nil {
                guard let type = item["type"]?.stringValue else {
                    throw fail(item, "env item", expected: "a command string or an object with a \"type\"")
                }
                result.append(.spec(type: type, options: item))
            } else {
                throw fail(item, "env item", expected: "a command string or an object")
            }
        }
        return result
    }

    /// `ui` as ImJoy normalises it (`Joy.normalizeUI`): trimmed string, or array lines joined with `<br>`.
    func ui(_ node: ConfigNode) throws(PluginParseError) -> String {
        switch node.kind {
        case .null: return ""
        case .string(let s): return s.trimmingSpaces
        case .array(let items):
            var lines: [String] = []
            for item in items {
                if let s = item.stringValue {
                    lines.append(s)
                } else if let entries = item.entries {
                    for entry in entries {
                        lines.append("\(entry.key): \(entry.value.stringValue ?? entry.value.json)")
                    }
                } else {
                    throw fail(item, "ui item", expected: "a string or an object")
                }
            }
            return lines.joined(separator: "<br>")
        default:
            throw fail(node, "ui", expected: "a string or an array (an object would be read as one value per tag)")
        }
    }
}

/// JSON-schema normalisation of `inputs`/`outputs` (IMJOY-PLUGINS.md §3.1, §3.4).
enum Schemas {
    /// Wraps a bare properties map as `{"type":"object","properties":…}` and makes every property required
    /// unless `required` is given.
    static func normalise(_ node: ConfigNode, _ field: String, allowArray: Bool, file: String?) throws(PluginParseError)
        -> ConfigNode?
    {
        if node.isNull { return nil }
        guard let entries = node.entries else {
            throw PluginParseError(
                .invalidField, "'\(field)' must be a JSON schema object, found \(node.kindDescription)", at: node.location,
                file: file)
        }
        let type = node["type"]?.stringValue
        if type == "object", node["properties"] != nil {
            return withRequired(node)
        }
        if allowArray, type == "array", node["items"] != nil {
            return node
        }
        let wrapped = ConfigNode(
            .object([
                .init(key: "type", keyLocation: node.location, value: ConfigNode(.string("object"), at: node.location)),
                .init(key: "properties", keyLocation: node.location, value: ConfigNode(.object(entries), at: node.location)),
            ]), at: node.location)
        return withRequired(wrapped)
    }

    static func withRequired(_ schema: ConfigNode) -> ConfigNode {
        guard schema["required"] == nil, case .object(var entries) = schema.kind,
            let properties = schema["properties"]?.entries
        else { return schema }
        let names = properties.map { ConfigNode(.string($0.key), at: $0.keyLocation) }
        entries.append(.init(key: "required", keyLocation: schema.location, value: ConfigNode(.array(names), at: schema.location)))
        return ConfigNode(.object(entries), at: schema.location)
    }
}

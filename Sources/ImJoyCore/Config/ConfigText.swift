import Yams

/// Parses the text of a `<config>` block (JSON or YAML) into a ``ConfigNode`` with file positions.
enum ConfigText {
    /// Parses `block`'s content as `lang` (`json`, `yaml`/`yml`, or nil: JSON).
    static func parse(_ block: PluginBlock, file: String?) throws(PluginParseError) -> (ConfigNode, [PluginWarning]) {
        let lang = block.lang?.lowercased() ?? "json"
        switch lang {
        case "json", "":
            switch LenientJSON.parse(block.content) {
            case .success(let (node, warnings)):
                return (
                    relocate(node, block),
                    warnings.map { PluginWarning($0.0, at: block.fileLocation(contentLine: $0.1 - 1, contentColumn: $0.2)) }
                )
            case .failure(let failure):
                throw PluginParseError(
                    .invalidJSON, "invalid JSON in <config>: \(failure.message)",
                    at: block.fileLocation(contentLine: failure.line - 1, contentColumn: failure.column), file: file)
            }
        case "yaml", "yml":
            return (try yaml(block, file: file), [])
        default:
            throw PluginParseError(
                .unsupportedConfigLanguage, "<config lang=\"\(lang)\"> is not supported; use lang=\"json\" or lang=\"yaml\"",
                at: block.location, file: file)
        }
    }

    /// Moves the content-relative positions of a parsed tree to file positions.
    static func relocate(_ node: ConfigNode, _ block: PluginBlock) -> ConfigNode {
        var node = node
        node.location = block.fileLocation(contentLine: node.location.line - 1, contentColumn: node.location.column)
        switch node.kind {
        case .array(let values):
            node.kind = .array(values.map { relocate($0, block) })
        case .object(let entries):
            node.kind = .object(
                entries.map { entry in
                    ConfigNode.Entry(
                        key: entry.key,
                        keyLocation: block.fileLocation(
                            contentLine: entry.keyLocation.line - 1, contentColumn: entry.keyLocation.column),
                        value: relocate(entry.value, block))
                })
        default:
            break
        }
        return node
    }

    static func yaml(_ block: PluginBlock, file: String?) throws(PluginParseError) -> ConfigNode {
        let root: Node?
        do {
            root = try Yams.compose(yaml: block.content)
        } catch let error as YamlError {
            let (message, mark) = describe(error)
            throw PluginParseError(
                .invalidYAML, "invalid YAML in <config>: \(message)",
                at: mark.map { block.fileLocation(contentLine: $0.line - 1, contentColumn: $0.column) } ?? block.location,
                file: file)
        } catch {
            throw PluginParseError(.invalidYAML, "invalid YAML in <config>: \(error)", at: block.location, file: file)
        }
        guard let root else {
            throw PluginParseError(.invalidYAML, "the YAML <config> is empty", at: block.location, file: file)
        }
        return convert(root, block)
    }

    static func describe(_ error: YamlError) -> (String, Mark?) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return (problem, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ("duplicated keys \(duplicates.joined(separator: ", "))", context.mark)
        default:
            return ("\(error)", nil)
        }
    }

    static func convert(_ node: Node, _ block: PluginBlock) -> ConfigNode {
        let location = node.mark.map { block.fileLocation(contentLine: $0.line - 1, contentColumn: $0.column) }
            ?? block.contentLocation
        switch node {
        case .scalar(let scalar):
            let kind: ConfigNode.Kind
            if scalar.style != .plain {
                kind = .string(scalar.string)
            } else if node.null != nil {
                kind = .null
            } else if let b = node.bool {
                kind = .bool(b)
            } else if let i = node.int {
                kind = .number(Double(i))
            } else if let f = node.float {
                kind = .number(f)
            } else {
                kind = .string(scalar.string)
            }
            return ConfigNode(kind, at: location)
        case .sequence(let sequence):
            return ConfigNode(.array(sequence.map { convert($0, block) }), at: location)
        case .mapping(let mapping):
            let entries = mapping.map { pair in
                ConfigNode.Entry(
                    key: pair.key.string ?? "\(pair.key)",
                    keyLocation: pair.key.mark.map { block.fileLocation(contentLine: $0.line - 1, contentColumn: $0.column) }
                        ?? location,
                    value: convert(pair.value, block))
            }
            return ConfigNode(.object(entries), at: location)
        case .alias:
            return ConfigNode(.null, at: location)
        }
    }
}

/// A plugin repository's `manifest.imjoy.json` (IMJOY-PLUGINS.md §5.1), with every entry's URI resolved.
public struct RepositoryManifest: Sendable, Hashable {
    /// One plugin of the repository: its config as listed, and where its file is.
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var type: String?
        public var version: String?
        public var description: String?
        public var tags: [String]
        /// Absolute URL of the plugin file.
        public var uri: String
        /// The entry as written (the plugin's config plus `uri`).
        public var config: ConfigNode
    }

    public struct Collection: Sendable, Hashable {
        public var name: String
        public var description: String?
        public var plugins: [String]
    }

    public var name: String?
    public var description: String?
    public var version: String?
    /// The base of relative plugin URIs, resolved.
    public var uriRoot: String
    /// Entries that are not `disabled`.
    public var plugins: [Entry]
    public var collections: [Collection]
    public var warnings: [PluginWarning]

    /// The entry named `name`.
    public func entry(named name: String) -> Entry? {
        plugins.first { $0.name == name }
    }

    /// Where the manifest of a repository is: `owner/repo[@ref]` → raw GitHub URL (branch `master` by default);
    /// a `github.com/o/r[/tree|blob/<ref>]` URL → the same raw URL at that ref; anything else is used as is.
    public static func manifestURL(for repository: String) -> String {
        let spec = repository.trimmingSpaces
        let lower = spec.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard lower.contains("github.com/"), !lower.contains("raw.githubusercontent.com") else { return spec }
            let path = spec.drop { $0 != "/" }.drop { $0 == "/" }.split(separator: "/").dropFirst().map(String.init)
            guard path.count >= 2 else { return spec }
            var ref = "master"
            if path.count >= 4, path[2] == "tree" || path[2] == "blob" { ref = path[3] }
            let repo = path[1].hasSuffix(".git") ? String(path[1].dropLast(4)) : path[1]
            return "https://raw.githubusercontent.com/\(path[0])/\(repo)/\(ref)/manifest.imjoy.json"
        }
        let (repoPath, ref) = PluginURI.splitTag(spec)
        return "https://raw.githubusercontent.com/\(repoPath)/\(ref ?? "master")/manifest.imjoy.json"
    }

    /// Parses a manifest fetched from `url`.
    /// - Throws: ``PluginParseError`` (`.invalidManifest`) naming the entry and its position.
    public static func parse(_ text: String, url: String, file: String? = nil) throws(PluginParseError) -> RepositoryManifest {
        let label = file ?? url
        let block = PluginBlock(
            type: "manifest", attributes: [:], content: text, location: .start, contentLocation: .start,
            removedIndent: 0)
        let root: ConfigNode
        var warnings: [PluginWarning]
        do {
            (root, warnings) = try ConfigText.parse(block, file: label)
        } catch {
            var e = error
            e.code = .invalidManifest
            e.message = e.message.replacingFirst("<config>", with: "the manifest")
            throw e
        }
        guard root.entries != nil else {
            throw PluginParseError(.invalidManifest, "a manifest must be a JSON object", at: root.location, file: label)
        }
        let directory = url.lastIndex(of: "/").map { String(url[..<$0]) } ?? url
        var uriRoot = root["uri_root"]?.stringValue ?? ""
        if !uriRoot.lowercased().hasPrefix("http") {
            uriRoot = uriRoot.isEmpty ? directory : directory + "/" + uriRoot.trimmingSlashes
        }
        guard let list = root["plugins"]?.arrayValue else {
            throw PluginParseError(
                .invalidManifest, "the manifest has no \"plugins\" array", at: root.location, file: label)
        }
        var plugins: [Entry] = []
        for (index, item) in list.enumerated() {
            guard item.entries != nil else {
                throw PluginParseError(
                    .invalidManifest, "plugins[\(index)] must be an object (a plugin config plus \"uri\")",
                    at: item.location, file: label)
            }
            guard let name = item["name"]?.stringValue, !name.trimmingSpaces.isEmpty else {
                throw PluginParseError(
                    .invalidManifest, "plugins[\(index)] has no \"name\"; every manifest entry needs one",
                    at: item.location, file: label)
            }
            if item["disabled"]?.boolValue == true { continue }
            if plugins.contains(where: { $0.name == name }) {
                warnings.append(PluginWarning("two entries are named '\(name)'; the first one is used", at: item.location))
                continue
            }
            let relative = item["uri"]?.stringValue ?? "\(name).imjoy.html"
            let uri = relative.lowercased().hasPrefix("http") ? relative : uriRoot + "/" + relative
            plugins.append(
                Entry(
                    name: name, type: item["type"]?.stringValue, version: item["version"]?.stringValue,
                    description: item["description"]?.stringValue,
                    tags: item["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [], uri: uri, config: item))
        }
        var collections: [Collection] = []
        for item in root["collections"]?.arrayValue ?? [] {
            guard let name = item["name"]?.stringValue else {
                warnings.append(PluginWarning("a collection without a name is ignored", at: item.location))
                continue
            }
            let members = item["plugins"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for member in members where !plugins.contains(where: { $0.name == member }) {
                warnings.append(PluginWarning("collection '\(name)' lists '\(member)', which is not in the manifest", at: item.location))
            }
            collections.append(Collection(name: name, description: item["description"]?.stringValue, plugins: members))
        }
        return RepositoryManifest(
            name: root["name"]?.stringValue, description: root["description"]?.stringValue,
            version: root["version"]?.stringValue, uriRoot: uriRoot, plugins: plugins, collections: collections,
            warnings: warnings)
    }
}

extension String {
    var trimmingSlashes: String {
        var s = Substring(self)
        while s.first == "/" { s.removeFirst() }
        while s.last == "/" { s.removeLast() }
        return String(s)
    }

    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let offset = firstOffset(of: target) else { return self }
        let characters = Array(self)
        return String(characters[..<offset]) + replacement + String(characters[(offset + target.count)...])
    }

    /// Character offset of the first occurrence of `target`.
    func firstOffset(of target: String) -> Int? {
        let haystack = Array(self)
        let needle = Array(target)
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }

    /// Character offset of the last occurrence of `target`.
    func lastOffset(of target: String) -> Int? {
        let haystack = Array(self)
        let needle = Array(target)
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for i in stride(from: haystack.count - needle.count, through: 0, by: -1)
        where Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}

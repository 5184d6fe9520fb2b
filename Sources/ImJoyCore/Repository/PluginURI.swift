/// Where a plugin comes from, as users and `dependencies` write it (IMJOY-PLUGINS.md §5.2).
public enum PluginURI: Sendable, Hashable {
    /// `owner/repo[@ref]:Plugin Name[@TAG]`: an entry of a GitHub repository's manifest.
    case repository(owner: String, repo: String, ref: String?, name: String, tag: String?)
    /// A plugin file to fetch (GitHub page URLs are already rewritten to raw URLs).
    case file(url: String, tag: String?)
    /// A gist: its first `.imjoy.html` file is found through `https://api.github.com/gists/<id>`.
    case gist(id: String, tag: String?)
    /// A plugin of the repository in scope (the one being installed from), by name.
    case name(String, tag: String?)
    /// Any other web page: an external app that speaks imjoy-rpc.
    case webApp(url: String)

    /// Parses a URI; errors say which forms are accepted.
    public static func parse(_ text: String) throws(PluginParseError) -> PluginURI {
        let uri = text.trimmingSpaces
        guard !uri.isEmpty else { throw invalid(text, "it is empty") }
        let lower = uri.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            return try web(uri)
        }
        if let colon = uri.firstIndex(of: ":") {
            let repository = String(uri[..<colon])
            let (name, tag) = splitTag(String(uri[uri.index(after: colon)...]))
            let (repoPath, ref) = splitTag(repository)
            let parts = repoPath.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isRepoCharacter) }) else {
                throw invalid(text, "'\(repository)' is not 'owner/repo' or 'owner/repo@ref'")
            }
            guard !name.isEmpty else { throw invalid(text, "the plugin name after ':' is empty") }
            return .repository(owner: String(parts[0]), repo: String(parts[1]), ref: ref, name: name, tag: tag)
        }
        let (name, tag) = splitTag(uri)
        return .name(name, tag: tag)
    }

    static func web(_ uri: String) throws(PluginParseError) -> PluginURI {
        let (address, tag) = fileTag(uri)
        let withoutScheme = address.drop { $0 != "/" }.drop { $0 == "/" }
        let parts = withoutScheme.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let host = parts.first?.lowercased() ?? ""
        if host == "github.com" || host == "www.github.com", parts.count >= 5, parts[3] == "blob" || parts[3] == "raw" {
            let path = parts[4...].joined(separator: "/")
            return .file(url: "https://raw.githubusercontent.com/\(parts[1])/\(parts[2])/\(path)", tag: tag)
        }
        if host == "gist.github.com", let id = parts.dropFirst().last(where: { !$0.isEmpty }) {
            return .gist(id: id, tag: tag)
        }
        if address.lowercased().split(separator: "?").first?.hasSuffix(".imjoy.html") == true
            || address.lowercased().hasSuffix(".imjoy.json")
        {
            return .file(url: address, tag: tag)
        }
        return .webApp(url: uri)
    }

    /// `X@TAG` → (`X`, `TAG`), splitting at the last `@`.
    static func splitTag(_ text: String) -> (String, String?) {
        guard let at = text.lastIndex(of: "@") else { return (text.trimmingSpaces, nil) }
        let tag = String(text[text.index(after: at)...]).trimmingSpaces
        return (String(text[..<at]).trimmingSpaces, tag.isEmpty ? nil : tag)
    }

    /// `…/x.imjoy.html@TAG` → (`…/x.imjoy.html`, `TAG`); other `@`s (user info) are left alone.
    static func fileTag(_ url: String) -> (String, String?) {
        let lower = url.lowercased()
        for suffix in [".imjoy.html@", ".imjoy.json@"] {
            if let start = lower.lastOffset(of: suffix) {
                let characters = Array(url)
                let tag = String(characters[(start + suffix.count)...])
                return (String(characters[..<(start + suffix.count - 1)]), tag.isEmpty ? nil : tag)
            }
        }
        return (url, nil)
    }

    static func isRepoCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "-" || c == "_" || c == "."
    }

    static func invalid(_ text: String, _ reason: String) -> PluginParseError {
        PluginParseError(
            .invalidURI,
            "invalid plugin URI '\(text)': \(reason); use 'owner/repo[@ref]:Name[@TAG]', a plugin file URL, "
                + "a GitHub or gist URL, or a plugin name")
    }

    /// The tag the URI selects, if any.
    public var tag: String? {
        switch self {
        case .repository(_, _, _, _, let tag), .file(_, let tag), .gist(_, let tag), .name(_, let tag): return tag
        case .webApp: return nil
        }
    }

    /// The URI without its tag: what ImJoy stores as a plugin's `origin` (for updates and sharing).
    public var origin: String {
        switch self {
        case .repository(let owner, let repo, let ref, let name, _):
            return "\(owner)/\(repo)" + (ref.map { "@\($0)" } ?? "") + ":\(name)"
        case .file(let url, _): return url
        case .gist(let id, _): return "https://gist.github.com/\(id)"
        case .name(let name, _): return name
        case .webApp(let url): return url
        }
    }

    /// For repository URIs: the manifest to load (the branch defaults to `master`, as in ImJoy).
    public var manifestURL: String? {
        guard case .repository(let owner, let repo, let ref, _, _) = self else { return nil }
        return RepositoryManifest.manifestURL(for: "\(owner)/\(repo)" + (ref.map { "@\($0)" } ?? ""))
    }
}

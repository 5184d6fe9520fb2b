import Foundation
import ImJoyCore

/// Turns what a user asks to install (source text, a URL or plugin URI, a manifest entry, a local file or
/// folder) into validated plugins, dependencies first (IMJOY-PLUGINS.md §5.3), before anything is stored.
struct PluginInstaller: Sendable {
    /// A plugin ready to store.
    struct Resolved: Sendable {
        var plugin: Plugin
        var text: String
        /// Where it came from (without `@TAG`), for updates and sharing; `nil` for pasted source text.
        var origin: String?
        var tag: String?
    }

    let fetcher: PluginFetcher
    /// Whether local paths may be read (only for the engine's owner: they are files on the engine's machine).
    var allowsLocalFiles: Bool
    /// Most plugins one install may bring in (a guard against runaway dependency trees).
    var maxPlugins = 64

    /// The repository bare plugin names are looked up in.
    struct Scope: Sendable {
        var manifest: RepositoryManifest
        /// The manifest's URL.
        var url: String
        /// `owner/repo[@ref]` when the repository is on GitHub.
        var repository: String?

        /// Where a plugin of this repository came from, as `update` can find it again.
        func origin(of name: String) -> String {
            repository.map { "\($0):\(name)" } ?? "\(url)#\(name)"
        }
    }

    /// Loads the repository a user names (`owner/repo[@ref]`, a GitHub URL or a manifest URL).
    func scope(_ repository: String) async throws -> Scope {
        let url = RepositoryManifest.manifestURL(for: repository)
        let spec = repository.lowercased().hasPrefix("http") ? nil : repository
        return Scope(manifest: try await fetcher.manifest(at: url), url: url, repository: spec)
    }

    /// Resolves `source` and its dependencies; dependencies come first in the result.
    /// - Parameter repository: the manifest URL bare names (and the dependencies of its plugins) are looked up in.
    ///   `MANIFEST_URL#Name` in `source` names one too.
    func resolve(_ source: String, tag: String?, repository: String?) async throws -> [Resolved] {
        var scope: Scope?
        if let repository { scope = try await self.scope(repository) }
        var state = State()
        try await resolve(source, tag: tag, scope: scope, chain: [], state: &state)
        return state.resolved
    }

    private struct State {
        var resolved: [Resolved] = []
        var done: Set<String> = []
    }

    private func resolve(
        _ source: String, tag explicitTag: String?, scope: Scope?, chain: [String], state: inout State
    ) async throws {
        guard state.resolved.count < maxPlugins else {
            throw PluginEngineError("The install brings in more than \(maxPlugins) plugins; check the dependencies")
        }
        let (text, origin, uriTag, manifest) = try await fetch(source, scope: scope)
        let tag = explicitTag ?? uriTag
        let plugin: Plugin
        do {
            plugin = try PluginLoader.load(text, file: origin.map { String($0.split(separator: "/").last ?? "") }, tag: tag)
        } catch {
            throw PluginEngineError(
                "\(origin ?? "The plugin source") is not a valid plugin, nothing was installed: \(error.description)")
        }
        let name = plugin.config.name
        if chain.contains(name) {
            throw PluginEngineError(
                "Dependency cycle: \((chain + [name]).joined(separator: " → ")); nothing was installed. Remove one of "
                    + "these dependencies")
        }
        if state.done.contains(plugin.config.id) { return }
        for dependency in plugin.config.dependencies {
            do {
                try await resolve(dependency, tag: nil, scope: manifest ?? scope, chain: chain + [name], state: &state)
            } catch let error as PluginEngineError where error.message.hasPrefix("Dependency cycle") {
                throw error
            } catch let error as PluginEngineError where error.message.hasPrefix("Failed to install dependencies") {
                throw error
            } catch {
                throw PluginEngineError(
                    "Failed to install dependencies for \(name): '\(dependency)': \(error); nothing was installed")
            }
        }
        state.done.insert(plugin.config.id)
        state.resolved.append(Resolved(plugin: plugin, text: text, origin: origin, tag: tag ?? plugin.config.tag))
    }

    /// The text of `source`, where it came from, the tag its URI names and the manifest in scope for its dependencies.
    private func fetch(_ source: String, scope: Scope?) async throws -> (String, String?, String?, Scope?) {
        if PluginEngineService.looksLikeSource(source) { return (source, nil, nil, nil) }
        if source.hasPrefix("/") || source.hasPrefix("./") || source.hasPrefix("~/") || source.hasPrefix("file://") {
            let path = source.hasPrefix("file://") ? String(source.dropFirst(7)) : source
            guard allowsLocalFiles else {
                throw PluginEngineError(
                    "Installing from a local path needs the engine owner's admin token (the path is on the engine's "
                        + "machine); send the plugin's source text instead")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PluginEngineError("Cannot read the plugin file \(path): it does not exist or is not readable")
            }
            return (String(decoding: data, as: UTF8.self), URL(fileURLWithPath: path).absoluteString, nil, nil)
        }
        if let hash = source.range(of: "manifest.imjoy.json#") {
            let repository = String(source[..<hash.upperBound].dropLast())
            return try await fetch(String(source[hash.upperBound...]), scope: try await self.scope(repository))
        }
        let uri: PluginURI
        do {
            uri = try PluginURI.parse(source)
        } catch {
            throw PluginEngineError(
                "'\(source.prefix(200))' is neither plugin source (no <config>) nor a plugin URI: \(error.description)")
        }
        let found = try await fetcher.resolve(uri, scope: scope?.manifest)
        switch uri {
        case .name(let name, let tag):
            return (found.text, scope?.origin(of: name) ?? found.url, tag, scope)
        case .repository(let owner, let repo, let ref, _, let tag):
            var inScope = scope
            if let manifest = found.manifest, let url = uri.manifestURL {
                inScope = Scope(manifest: manifest, url: url, repository: "\(owner)/\(repo)" + (ref.map { "@\($0)" } ?? ""))
            }
            return (found.text, uri.origin, tag, inScope)
        default:
            return (found.text, uri.origin, uri.tag, scope)
        }
    }

    /// Whether `folder` is a directory; if so, the `.imjoy.html` files in it, by name.
    static func pluginFiles(inFolder folder: String) -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".imjoy.html") }.sorted().map { folder + "/" + $0 }
    }
}

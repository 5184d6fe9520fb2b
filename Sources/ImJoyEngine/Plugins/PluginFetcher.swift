import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import ImJoyCore
import NIOCore
import NIOHTTP1

/// Downloads plugin files and repository manifests, resolving every URI form of IMJOY-PLUGINS.md §5.2,
/// with a timeout and a size limit on every download.
public struct PluginFetcher: Sendable {
    /// Why a download failed; `message` names the URL and the problem.
    public struct FetchError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public var timeout: Duration
    public var maxSize: Int
    let client: HTTPClient

    /// A fetcher on the shared HTTP client.
    public init(timeout: Duration = .seconds(30), maxSize: Int = 8 << 20) {
        self.timeout = timeout
        self.maxSize = maxSize
        self.client = HTTPClient.shared
    }

    /// The text of the plugin a URI names. `scope` is the repository bare names are looked up in.
    public func plugin(_ uri: PluginURI, scope: RepositoryManifest? = nil) async throws -> (url: String, text: String) {
        let found = try await resolve(uri, scope: scope)
        return (found.url, found.text)
    }

    /// The repository manifest at `url`.
    public func manifest(at url: String) async throws -> RepositoryManifest {
        do {
            return try RepositoryManifest.parse(try await text(at: url), url: url)
        } catch let error as PluginParseError {
            throw FetchError(message: "\(url) is not a valid repository manifest: \(error.description)")
        }
    }

    /// The text of the plugin a URI names, and the manifest it came from (the scope of its dependencies).
    public func resolve(_ uri: PluginURI, scope: RepositoryManifest? = nil) async throws -> (
        url: String, text: String, manifest: RepositoryManifest?
    ) {
        switch uri {
        case .file(let url, _):
            return (url, try await text(at: url), nil)
        case .repository(_, _, _, let name, _):
            let manifestURL = uri.manifestURL ?? ""
            let manifest = try await manifest(at: manifestURL)
            guard let entry = manifest.entry(named: name) else {
                throw FetchError(
                    message: "the repository manifest \(manifestURL) has no plugin named '\(name)' "
                        + "(it has: \(manifest.plugins.map(\.name).joined(separator: ", ")))")
            }
            return (entry.uri, try await text(at: entry.uri), manifest)
        case .gist(let id, _):
            let api = "https://api.github.com/gists/\(id)"
            let listing = try ConfigNode.parseJSON(try await text(at: api), file: api)
            let files = listing["files"]?.entries ?? []
            guard let file = files.first(where: { $0.key.hasSuffix(".imjoy.html") }), let raw = file.value["raw_url"]?.stringValue
            else {
                throw FetchError(message: "gist \(id) has no .imjoy.html file")
            }
            return (raw, try await text(at: raw), nil)
        case .name(let name, _):
            guard let scope else {
                throw FetchError(
                    message: "'\(name)' is a bare plugin name: give the repository too ('owner/repo:\(name)', or "
                        + "install it with repository=<manifest URL>)")
            }
            guard let entry = scope.entry(named: name) else {
                throw FetchError(
                    message: "the repository \(scope.name ?? "manifest") has no plugin named '\(name)' "
                        + "(it has: \(scope.plugins.map(\.name).joined(separator: ", ")))")
            }
            return (entry.uri, try await text(at: entry.uri), scope)
        case .webApp(let url):
            throw FetchError(message: "\(url) is a web page, not a plugin file (.imjoy.html)")
        }
    }

    /// The body of `url` as UTF-8 text.
    public func text(at url: String) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "imjoy-swift")
        // No idle keep-alive connection left behind: fetches are rare, and a pooled connection to this engine's own
        // server (its plugin repository) would hold the server's graceful shutdown open.
        request.headers.add(name: "Connection", value: "close")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        } catch {
            throw FetchError(message: "cannot download \(url): \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw FetchError(message: "cannot download \(url): HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxSize)
        } catch {
            throw FetchError(message: "\(url) is larger than the \(maxSize >> 20) MiB limit for plugin files")
        }
        return String(buffer: body)
    }
}

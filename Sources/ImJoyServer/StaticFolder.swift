import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// Serves the files of one folder under a URL prefix, refusing anything that could leave the folder
/// (`..`, encoded slashes or dots, hidden files, symbolic links pointing outside).
struct StaticFolder: Sendable {
    let root: URL

    /// The response for the path components after the prefix.
    func response(for components: [Substring]) -> Response {
        guard let relative = Self.safeRelativePath(components) else {
            return Self.text(.forbidden, "Refused: the path leaves the served folder or names a hidden file\n")
        }
        let rootPath = root.resolvingSymlinksInPath().path
        let file = URL(fileURLWithPath: rootPath).appendingPathComponent(relative).resolvingSymlinksInPath()
        guard file.path.hasPrefix(rootPath + "/") else {
            return Self.text(.forbidden, "Refused: the path leaves the served folder\n")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: file.path)
        else {
            return Self.text(.notFound, "Not found: /\(relative)\n")
        }
        var headers = HTTPFields()
        headers[.contentType] = Self.contentType(of: file.pathExtension)
        headers[.cacheControl] = "no-cache"
        // Sandboxed plugin frames have an opaque origin; they import the protocol client from here.
        headers[.accessControlAllowOrigin] = "*"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The relative path of percent-decoded components, or `nil` when one is empty, `.`, `..`, hidden, or holds
    /// a slash, a backslash or a NUL once decoded.
    static func safeRelativePath(_ components: [Substring]) -> String? {
        guard !components.isEmpty else { return nil }
        var parts: [String] = []
        for component in components {
            guard let decoded = String(component).removingPercentEncoding, !decoded.isEmpty, !decoded.hasPrefix("."),
                !decoded.contains("/"), !decoded.contains("\\"), !decoded.contains("\0")
            else { return nil }
            parts.append(decoded)
        }
        return parts.joined(separator: "/")
    }

    static func contentType(of pathExtension: String) -> String {
        switch pathExtension.lowercased() {
        case "json": return "application/json"
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "png": return "image/png"
        case "svg": return "image/svg+xml"
        case "md", "txt", "py": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

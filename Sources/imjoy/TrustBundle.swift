#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The CA bundle given to plugin processes when the engine serves TLS: the system's roots plus the engine's own
/// certificate, so a plugin reaches the engine over `wss://` (also with a self-signed certificate) and any other
/// HTTPS site as before.
enum TrustBundle {
    /// Where Debian, Fedora/RHEL, Alpine and macOS (Homebrew OpenSSL) keep the system's roots.
    static let systemBundles = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
        "/usr/local/etc/openssl/cert.pem",
    ]

    /// Writes `<dataDirectory>/tls/trust-bundle.pem` and returns its URL.
    static func write(adding certificate: String, in dataDirectory: URL) throws -> URL {
        let folder = dataDirectory.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var bundle = Data()
        if let system = systemBundles.lazy.compactMap({ FileManager.default.contents(atPath: $0) }).first {
            bundle.append(system)
            bundle.append(contentsOf: Array("\n".utf8))
        }
        bundle.append(try Data(contentsOf: URL(fileURLWithPath: certificate)))
        let url = folder.appendingPathComponent("trust-bundle.pem")
        try bundle.write(to: url)
        return url
    }
}

public import NIOSSL

/// Settings of the HTTP/WebSocket server.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// `0` picks a free port.
    public var port: Int
    /// Largest WebSocket message accepted from a client; a larger one closes that connection (1009).
    public var maxMessageSize: Int
    /// Time a new socket has to send its authentication frame.
    public var authenticationTimeout: Duration
    /// Bytes queued for one slow client before the engine gives up on it.
    public var maxQueuedBytesPerConnection: Int
    /// Bodies larger than this are written as a continuation frame instead of being copied behind the header.
    public var fragmentThreshold: Int
    /// How often idle sockets are pinged; one that misses a pong is closed.
    public var pingInterval: Duration
    /// Serve HTTPS and `wss://` with this certificate and key instead of plain HTTP (`nil`: plain).
    public var tls: TLSConfiguration?

    public init(
        host: String = "127.0.0.1", port: Int = 9527, maxMessageSize: Int = 16 << 20,
        authenticationTimeout: Duration = .seconds(5), maxQueuedBytesPerConnection: Int = 64 << 20,
        fragmentThreshold: Int = 32 << 10, pingInterval: Duration = .seconds(30), tls: TLSConfiguration? = nil
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.maxMessageSize = maxMessageSize
        self.authenticationTimeout = authenticationTimeout
        self.maxQueuedBytesPerConnection = maxQueuedBytesPerConnection
        self.fragmentThreshold = fragmentThreshold
        self.pingInterval = pingInterval
    }
}

extension ServerConfiguration {
    /// A server TLS configuration from PEM files: `certificate` (the server's certificate, then any intermediate
    /// ones) and `privateKey`.
    /// - Throws: ``ServerConfigurationError`` naming the file that cannot be read or parsed.
    public static func tls(certificate: String, privateKey: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw ServerConfigurationError(
                "--tls-cert \(certificate) is not a readable PEM certificate (\(error)); pass the server's certificate "
                    + "(e.g. fullchain.pem)")
        }
        guard !chain.isEmpty else {
            throw ServerConfigurationError("--tls-cert \(certificate) holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw ServerConfigurationError(
                "--tls-key \(privateKey) is not a readable, unencrypted PEM private key (\(error)); pass the key that "
                    + "belongs to --tls-cert (e.g. privkey.pem)")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}

/// A server setting cannot be used; the message says which and how to fix it.
public struct ServerConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

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

    public init(
        host: String = "127.0.0.1", port: Int = 9527, maxMessageSize: Int = 16 << 20,
        authenticationTimeout: Duration = .seconds(5), maxQueuedBytesPerConnection: Int = 64 << 20,
        fragmentThreshold: Int = 32 << 10, pingInterval: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.maxMessageSize = maxMessageSize
        self.authenticationTimeout = authenticationTimeout
        self.maxQueuedBytesPerConnection = maxQueuedBytesPerConnection
        self.fragmentThreshold = fragmentThreshold
        self.pingInterval = pingInterval
    }
}

/// Where a `ws(s)://` URL points: host, port, request target, and whether it needs TLS.
struct WebSocketEndpoint: Sendable, Equatable {
    var host: String
    var port: Int
    /// The request target: path and query (`/ws?x=1`).
    var target: String
    var usesTLS: Bool

    /// `host:port` as the `Host` header carries it (the port only when it is not the scheme's default).
    var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return port == (usesTLS ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }

    init(host: String, port: Int, target: String, usesTLS: Bool) {
        (self.host, self.port, self.target, self.usesTLS) = (host, port, target, usesTLS)
    }

    /// Parses `ws://host[:port][/path][?query]` or `wss://…`; IPv6 hosts go in brackets (`ws://[::1]:9527/ws`).
    init(_ url: String) throws(ClientError) {
        let rest: Substring
        if url.hasPrefix("ws://") {
            usesTLS = false
            rest = url.dropFirst(5)
        } else if url.hasPrefix("wss://") {
            usesTLS = true
            rest = url.dropFirst(6)
        } else {
            throw ClientError(.invalidURL, "'\(url)' is not a WebSocket URL: use ws(s)://host:port/ws")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        target = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))

        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ClientError(.invalidURL, "'\(url)' has an unclosed '[' in its host")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty {
                throw ClientError(.invalidURL, "'\(url)' has something other than a port after its host")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        if let at = hostPart.lastIndex(of: "@") { hostPart = hostPart[hostPart.index(after: at)...] }
        guard !hostPart.isEmpty else { throw ClientError(.invalidURL, "'\(url)' has no host") }
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw ClientError(.invalidURL, "'\(url)' has an invalid port '\(portPart)': use a number from 1 to 65535")
            }
            self.port = port
        } else {
            port = usesTLS ? 443 : 80
        }
    }
}

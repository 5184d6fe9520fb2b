#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import MessagePack

extension RPCPeer {
    /// A function of another peer, called with a compact promise (`_rpromise: "*"`).
    public func remoteFunction(target: String, method: String) -> RPCFunction {
        let target = Address.absolute(target, in: configuration.workspace)
        let descriptor: MessagePackMap = [
            "_rtype": "method", "_rserver": .string(configuration.serverBaseURL), "_rtarget": .string(target),
            "_rmethod": .string(method), "_rpromise": "*",
        ]
        return RPCFunction(
            remote: RemoteFunction(
                target: target, method: method, promise: .compact, name: nil, descriptor: descriptor,
                remoteParent: nil, peer: self))
    }

    /// Calls `method` on `target` and decodes the result.
    public func call(
        target: String, method: String, arguments: [RPCValue] = [], kwargs: RPCObject? = nil,
        timeout: Duration? = nil
    ) async throws -> RPCValue {
        try await call(target: target, method: method, arguments: arguments, kwargs: kwargs, timeout: timeout, heartbeats: true)
    }

    /// ``call(target:method:arguments:kwargs:timeout:)``, asking for heartbeats or not.
    func call(
        target: String, method: String, arguments: [RPCValue], kwargs: RPCObject?, timeout: Duration?, heartbeats: Bool
    ) async throws -> RPCValue {
        let function = remoteFunction(target: target, method: method)
        guard case .remote(let remote) = function.kind else { return .null }
        return try await call(remote, arguments: arguments, kwargs: kwargs, timeout: timeout, heartbeats: heartbeats)
    }

    /// Calls `method` on `target` and returns the result undecoded (for relaying it verbatim).
    public func callRaw(
        target: String, method: String, arguments: [RPCValue] = [], timeout: Duration? = nil
    ) async throws -> MessagePackValue {
        let function = remoteFunction(target: target, method: method)
        guard case .remote(let remote) = function.kind else { return .nil }
        let answer = try await send(remote, arguments: arguments, kwargs: nil, timeout: timeout)
        return answer?.value ?? .nil
    }

    /// Fetches a service of another peer through that peer's built-in `get_service`.
    public func remoteService(of target: String, id: String, timeout: Duration? = nil) async throws -> RPCObject {
        let value = try await call(
            target: target, method: "services.built-in.get_service", arguments: [.string(id)], timeout: timeout)
        guard let object = value.objectValue else {
            throw RPCError(.invalidMessage, "\(target) answered get_service(\(id)) with something that is not a service")
        }
        return object
    }

    /// Sends an event (`type` ≠ `"method"`) to every subscriber of the workspace (`to: "*"`).
    public func emit(event type: String, data: RPCValue) async throws {
        var sink = EncodingSink(peerAddress: address, serverBaseURL: configuration.serverBaseURL, sessionID: nil)
        let main: MessagePackMap = [
            "type": .string(type), "from": .string(address), "to": "*",
            "data": ValueCodec.encode(data, into: &sink, allowCallables: false),
        ]
        try await transport.send(FrameBuilder.frame(main: main, extra: nil))
    }

    func call(
        _ remote: RemoteFunction, arguments: [RPCValue], kwargs: RPCObject?, timeout: Duration? = nil,
        heartbeats: Bool = true, whenSent: (@Sendable () async -> Void)? = nil
    ) async throws -> RPCValue {
        guard
            let answer = try await send(
                remote, arguments: arguments, kwargs: kwargs, timeout: timeout, heartbeats: heartbeats,
                whenSent: whenSent)
        else {
            return .null
        }
        return ValueCodec.decode(answer.value, peer: self, remoteWorkspace: answer.remoteWorkspace, remoteParent: nil)
    }

    /// Sends a call; returns the raw answer, or `nil` for fire-and-forget calls. Without `heartbeats` the promise
    /// names only `resolve` and `reject`, so the callee sends no heartbeats (for calls without a time limit).
    /// `whenSent` runs once the whole call is on its way: its frame handed to the transport, or for a chunked call
    /// the last message (`process`) after the receiver took every chunk.
    func send(
        _ remote: RemoteFunction, arguments: [RPCValue], kwargs: RPCObject?, timeout: Duration?, heartbeats: Bool = true,
        whenSent: (@Sendable () async -> Void)? = nil
    ) async throws -> PendingReply.Answer? {
        if isClosed {
            throw RPCError(.connectionClosed, "Connection is closed: cannot call \(remote.target):\(remote.method)")
        }
        let sessionID = ShortID.make(using: &randomness)
        var all = arguments
        if let kwargs { all.append(.object(kwargs)) }
        var sink = EncodingSink(
            peerAddress: address, serverBaseURL: configuration.serverBaseURL, sessionID: sessionID,
            recipient: remote.target)
        sink.allowsInterfaces = configuration.allowsInterfaces
        let encodedArguments = all.map { ValueCodec.encode($0, into: &sink) }

        var main: MessagePackMap = [
            "type": "method", "from": .string(address), "to": .string(remote.target), "method": .string(remote.method),
        ]
        if let parent = remote.remoteParent { main["parent"] = .string(parent) }
        var extra = MessagePackMap()
        if !encodedArguments.isEmpty { extra["args"] = .array(encodedArguments) }
        if kwargs != nil { extra["with_kwargs"] = true }

        var reply: PendingReply?
        if remote.promise != .none {
            let effective = timeout ?? configuration.methodTimeout
            reply = PendingReply(timeout: effective)
            main["session"] = .string(sessionID)
            let seconds = Double(effective.components.seconds) + Double(effective.components.attoseconds) / 1e18
            if !heartbeats {
                extra["promise"] = explicitPromise(sessionID: sessionID, interval: nil)
            } else if remote.promise == .explicit {
                // A third of the timeout (hypha-rpc asks for half): two heartbeats may be late before the call fails.
                extra["promise"] = explicitPromise(sessionID: sessionID, interval: seconds / 3)
            } else {
                extra["promise"] = "*"
                extra["t"] = .double(seconds / 2)
            }
        }
        remember(sink, sessionID: sessionID, target: remote.target, reply: reply)

        let frame = FrameBuilder.frame(main: main, extra: extra)
        do {
            if frame.count > configuration.chunkSize + 1024 {
                try await sendChunked(
                    frame, to: remote.target, key: remote.remoteParent, timeout: timeout, heartbeats: heartbeats)
            } else {
                try await transport.send(frame)
            }
        } catch {
            forgetSession(sessionID)
            throw error is RPCError
                ? error
                : RPCError(.connectionClosed, "Failed to send the call \(remote.target):\(remote.method): \(error)")
        }
        if let whenSent { await whenSent() }
        guard let reply else { return nil }
        defer { finishCall(sessionID) }
        return try await reply.wait()
    }

    /// Keeps what a call needs locally: the pending reply and any callbacks or interfaces it sent.
    func remember(_ sink: EncodingSink, sessionID: String, target: String, reply: PendingReply?) {
        for service in sink.interfaces { services[service.id] = service }
        guard reply != nil || !sink.callbacks.isEmpty else { return }
        sessions[sessionID] = Session(
            target: target, reply: reply, callbacks: sink.callbacks, lastActivity: .now)
        if reply != nil { watchPendingReplies() }
    }

    func finishCall(_ sessionID: String) {
        sessions[sessionID]?.reply = nil
        if sessions[sessionID]?.isIdle == true { sessions.removeValue(forKey: sessionID) }
    }

    func forgetSession(_ sessionID: String) {
        sessions[sessionID]?.reply?.settle(.failure(RPCError(.connectionClosed, "the call could not be sent")))
        sessions.removeValue(forKey: sessionID)
    }

    /// `{resolve, reject}` at this call's session, plus `heartbeat` every `interval` seconds unless that is `nil`.
    private func explicitPromise(sessionID: String, interval: Double?) -> MessagePackValue {
        func callback(_ name: String) -> MessagePackValue {
            [
                "_rtype": "method", "_rtarget": .string(address), "_rmethod": .string("\(sessionID).\(name)"),
                "_rpromise": false,
            ]
        }
        var promise: MessagePackMap = ["resolve": callback("resolve"), "reject": callback("reject")]
        if let interval {
            promise["heartbeat"] = callback("heartbeat")
            promise["interval"] = .double(interval)
        }
        return .map(promise)
    }

    // MARK: - Chunking (PROTOCOL.md §2.6)

    /// Sends a frame too large for one message through the receiver's built-in `message_cache`. Its calls have the
    /// main call's time limit and heartbeats: a call without a time limit can be sent ahead to a plugin that is busy
    /// computing (and answers nothing until it is done), and its chunks must wait as long as the call itself.
    func sendChunked(
        _ frame: Data, to target: String, key: String?, timeout: Duration? = nil, heartbeats: Bool = true
    ) async throws {
        let version = try await builtInVersion(of: target, timeout: timeout)
        let messageKey = key ?? ShortID.make(using: &randomness)
        let heartbeat = RPCValue.bool(key != nil)
        try await cacheCall(target, "create", [.string(messageKey), heartbeat], timeout: timeout, heartbeats: heartbeats)
        let chunkSize = configuration.chunkSize
        let count = (frame.count + chunkSize - 1) / chunkSize
        func chunk(_ i: Int) -> RPCValue {
            let start = frame.startIndex + i * chunkSize
            return .bytes(frame[start..<min(start + chunkSize, frame.endIndex)])
        }
        do {
            if version >= 3 {
                let limit = max(1, configuration.maxConcurrentChunks)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<count {
                        if i >= limit { try await group.next() }
                        let arguments: [RPCValue] = [.string(messageKey), .int(Int64(i)), chunk(i), heartbeat]
                        group.addTask {
                            try await self.cacheCall(target, "set", arguments, timeout: timeout, heartbeats: heartbeats)
                        }
                    }
                    try await group.waitForAll()
                }
            } else {
                for i in 0..<count {
                    try await cacheCall(
                        target, "append", [.string(messageKey), chunk(i), heartbeat], timeout: timeout, heartbeats: heartbeats)
                }
            }
            try await cacheCall(target, "process", [.string(messageKey), heartbeat], timeout: timeout, heartbeats: heartbeats)
        } catch {
            // Clean-up only: a receiver that cannot answer soon drops the pieces with its session anyway.
            try? await cacheCall(target, "remove", [.string(messageKey)], timeout: .seconds(10), heartbeats: true)
            throw error
        }
    }

    /// Calls a method of `target`'s built-in `message_cache`.
    private func cacheCall(
        _ target: String, _ method: String, _ arguments: [RPCValue], timeout: Duration?, heartbeats: Bool
    ) async throws {
        _ = try await call(
            target: target, method: "services.built-in.message_cache.\(method)", arguments: arguments, kwargs: nil,
            timeout: timeout, heartbeats: heartbeats)
    }

    /// The `api_version` of a peer's built-in service (cached per peer).
    private func builtInVersion(of target: String, timeout: Duration? = nil) async throws -> Int {
        if let known = builtInVersions[target] { return known }
        let builtIn = try await remoteService(of: target, id: "built-in", timeout: timeout)
        let version = builtIn["config"]?["api_version"]?.intValue ?? 2
        builtInVersions[target] = version
        return version
    }
}

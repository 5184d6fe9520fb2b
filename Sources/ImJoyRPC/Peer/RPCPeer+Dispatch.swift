import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MessagePack

/// How to answer one incoming call: the caller's resolve/reject/heartbeat functions.
struct ReplyChannel: Sendable {
    var resolve: RemoteFunction
    var reject: RemoteFunction
    var heartbeat: RemoteFunction?
    var interval: Duration
}

extension RPCPeer {
    /// Handles one inbound frame. Answers, heartbeats and built-in calls are handled at once (in order);
    /// service functions and callbacks come back as work to run concurrently.
    func receive(_ frame: Data) -> [Work] {
        let message: IncomingMessage
        do {
            message = try IncomingMessage.decode(frame, limits: configuration.decodingLimits)
        } catch {
            logger.warning("Dropped an undecodable frame", metadata: ["error": "\(error)", "bytes": "\(frame.count)"])
            return []
        }
        return dispatch(message)
    }

    func dispatch(_ message: IncomingMessage) -> [Work] {
        guard let type = message.type else {
            logger.debug("Dropped a message without type")
            return []
        }
        if type == "method" { return handleMethod(message).map { [$0] } ?? [] }
        return handleEvent(type, message)
    }

    // MARK: - Events

    private func handleEvent(_ type: String, _ message: IncomingMessage) -> [Work] {
        guard configuration.acceptsEvents else { return [] }
        let data = message.merged["data"] ?? .nil
        if type == "client_disconnected", let id = data["id"]?.stringValue {
            let workspace = data["workspace"]?.stringValue ?? Address.workspace(of: message.from ?? "")
            peerDisconnected(Address.absolute(id, in: workspace))
        }
        guard let handlers = eventHandlers[type], !handlers.isEmpty else { return [] }
        let object = ValueCodec.decode(.map(message.merged), peer: self, remoteWorkspace: "", remoteParent: nil)
            .objectValue ?? RPCObject()
        return handlers.map { handler in { await handler(object) } }
    }

    // MARK: - Method calls

    private func handleMethod(_ message: IncomingMessage) -> Work? {
        guard let method = message.method, let from = message.from else {
            logger.debug("Dropped a method call without method or from")
            return nil
        }
        let reply = replyChannel(for: message, from: from)
        let path = method.split(separator: ".", omittingEmptySubsequences: false)
        func fail(_ error: RPCError) -> Work? {
            guard let reply else {
                logger.debug("Call failed without a promise", metadata: ["error": "\(error.message)"])
                return nil
            }
            return { await self.answer(reply, with: .failure(error)) }
        }

        if path.first == "services" {
            guard path.count >= 3 else {
                return fail(RPCError(.methodNotFound, "Method not found: \(from):\(method) at \(configuration.clientID)"))
            }
            let serviceID = String(path[1])
            if serviceID == "built-in" {
                return handleBuiltIn(path: path.dropFirst(2), message: message, from: from, reply: reply)
            }
            guard let service = services[serviceID] else {
                return fail(RPCError(.methodNotFound, "Method expired or not found: \(from):\(method)"))
            }
            guard service.permits(caller: from, ownWorkspace: configuration.workspace, managerID: configuration.managerID)
            else {
                return fail(
                    RPCError(
                        .permissionDenied,
                        "Permission denied for invoking protected method \(from):\(method), workspace mismatch: "
                            + "\(configuration.workspace) != \(Address.workspace(of: from))"))
            }
            if serviceID.hasPrefix("_rintf_"), path.count == 3, path[2] == "_dispose" {
                services.removeValue(forKey: serviceID)
                guard let reply else { return nil }
                return { await self.answer(reply, with: .success(.null)) }
            }
            guard case .function(let function)? = service.member(at: path.dropFirst(2)),
                case .local(_, _, let body) = function.kind
            else {
                return fail(RPCError(.methodNotFound, "Method expired or not found: \(from):\(method)"))
            }
            return invocation(body, message: message, from: from, reply: reply)
        }

        let sessionID = String(path[0])
        guard path.count >= 2, var session = sessions[sessionID] else {
            if path.count < 2 {
                return fail(RPCError(.methodNotFound, "Method not found: \(from):\(method) at \(configuration.clientID)"))
            }
            let last = path.last ?? ""
            if last == "resolve" || last == "reject" || last == "heartbeat" { return nil }
            return fail(RPCError(.methodNotFound, "Session not found: \(from):\(method)"))
        }
        if let target = session.target, target != from {
            return fail(
                RPCError(
                    .permissionDenied, "Access denied for method call (\(from):\(method)) from \(from) to target \(target)"
                ))
        }
        // Everything after the session id (path.count >= 2, so there is a dot).
        let key = method.firstIndex(of: ".").map { String(method[method.index(after: $0)...]) } ?? ""
        session.lastActivity = .now
        sessions[sessionID] = session
        switch key {
        case "heartbeat":
            session.reply?.heartbeat()
            return nil
        case "resolve", "reject":
            guard let pending = session.reply else { return nil }
            let value = message.merged["args"]?.arrayValue?.first ?? .nil
            let workspace = Address.workspace(of: from)
            if key == "resolve" {
                pending.settle(.success(.init(value: value, remoteWorkspace: workspace)))
            } else {
                pending.settle(.failure(Self.error(from: value, peer: self, workspace: workspace)))
            }
            finishCall(sessionID)
            return nil
        default:
            guard let body = session.callbacks[key] else {
                return fail(RPCError(.methodNotFound, "Method expired or not found: \(from):\(method)"))
            }
            return invocation(body, message: message, from: from, reply: reply)
        }
    }

    /// The work of running a local function for a call and answering it.
    private func invocation(
        _ body: @escaping RPCFunction.Body, message: IncomingMessage, from: String, reply: ReplyChannel?
    ) -> Work {
        let remoteWorkspace = Address.workspace(of: from)
        var positional =
            (message.merged["args"]?.arrayValue ?? []).map {
                ValueCodec.decode($0, peer: self, remoteWorkspace: remoteWorkspace, remoteParent: message.session)
            }
        var keyword = RPCObject()
        if message.merged["with_kwargs"]?.boolValue == true, case .object(let kwargs)? = positional.last {
            keyword = kwargs
            positional.removeLast()
        }
        let context = RPCContext(
            from: from, to: Address.absolute(message.to ?? address, in: remoteWorkspace),
            workspace: message.workspace ?? remoteWorkspace, user: message.user, method: message.method ?? "",
            session: message.session)
        let call = RPCCall(positional: positional, keyword: keyword, context: context)
        let heartbeats = reply.flatMap(callStarted)
        return {
            guard let reply else {
                _ = try? await body(call)
                return
            }
            let result: Result<RPCValue, any Error>
            do { result = .success(try await body(call)) } catch { result = .failure(error) }
            await self.answer(reply, with: result, endingCall: heartbeats)
        }
    }

    /// Sends `resolve(value)` or `reject(error)` to the caller; large answers are chunked.
    func answer(_ reply: ReplyChannel, with result: Result<RPCValue, any Error>, endingCall number: UInt64? = nil) async {
        if let number { callEnded(number) }
        do {
            switch result {
            case .success(let value):
                _ = try await send(reply.resolve, arguments: [value], kwargs: nil, timeout: nil)
            case .failure(let error):
                _ = try await send(reply.reject, arguments: [.error(Self.remoteError(for: error))], kwargs: nil, timeout: nil)
            }
        } catch {
            logger.debug("Could not answer a call", metadata: ["error": "\(error)", "to": "\(reply.resolve.target)"])
        }
    }

    /// The error object sent to a caller for a Swift error.
    static func remoteError(for error: any Error) -> RemoteError {
        switch error {
        case let remote as RemoteError: return remote
        case let rpc as RPCError: return RemoteError(message: rpc.message)
        default: return RemoteError(message: String(describing: error))
        }
    }

    /// The Swift error for a received error object.
    static func error(from value: MessagePackValue, peer: RPCPeer, workspace: String) -> any Error {
        switch ValueCodec.decode(value, peer: peer, remoteWorkspace: workspace, remoteParent: nil) {
        case .error(let remote): return remote
        case .string(let s): return RemoteError(message: s)
        default: return RemoteError(message: "the remote call failed")
        }
    }

    /// Reads the promise of a call: `"*"` (answer at `<session>.resolve|reject|heartbeat` on the caller)
    /// or an explicit map of the three functions. An explicit map must point back at the caller's own session:
    /// anything else would let a caller make this peer call a third party.
    private func replyChannel(for message: IncomingMessage, from: String) -> ReplyChannel? {
        guard let promise = message.merged["promise"], let session = message.session else { return nil }
        let interval: Duration
        switch promise {
        case .map(let map): interval = Self.heartbeatInterval(map["interval"])
        default: interval = Self.heartbeatInterval(message.merged["t"])
        }
        if case .map(let map) = promise {
            for name in ["resolve", "reject", "heartbeat"] {
                guard case .map(let callback)? = map[name] else { continue }
                let target = callback["_rtarget"]?.stringValue.map { Address.absolute($0, in: Address.workspace(of: from)) }
                if target != from || callback["_rmethod"]?.stringValue != "\(session).\(name)" {
                    logger.warning(
                        "Ignored a promise that does not point back at its caller",
                        metadata: ["peer.id": "\(from)", "method": "\(message.method ?? "")"])
                }
            }
        }
        func callback(_ name: String) -> RemoteFunction {
            RemoteFunction(
                target: from, method: "\(session).\(name)", promise: .none, name: name,
                descriptor: MessagePackMap(), remoteParent: session, peer: self)
        }
        // An explicit promise without `heartbeat` asks for none (a call without a time limit).
        var wantsHeartbeats = true
        if case .map(let map) = promise { wantsHeartbeats = map["heartbeat"] != nil }
        return ReplyChannel(
            resolve: callback("resolve"), reject: callback("reject"),
            heartbeat: wantsHeartbeats ? callback("heartbeat") : nil, interval: interval)
    }

    /// The heartbeat interval a caller asked for, kept between 1 s and 1 h.
    static func heartbeatInterval(_ value: MessagePackValue?) -> Duration {
        value?.doubleValue.flatMap { Duration.seconds(clamping: $0, to: 1...3600) } ?? .seconds(15)
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack
import NIOCore

/// Delivers binary frames between peers (PROTOCOL.md §2.4): it parses and rewrites only the routing
/// header, forwards the body bytes untouched, and answers undeliverable calls at once.
struct MessageRouter: Sendable {
    let table: ConnectionTable
    let managerAddress: String
    let managerInbox: AsyncStream<Data>.Continuation
    let managerUser: [UInt8]
    let maxForwardedFrameSize: Int
    let logger: Logger
    let hosts: HostDirectory

    /// Event types only the engine may send: clients trust them (they fail pending calls on them).
    static func isServerEvent(_ type: String) -> Bool {
        switch type {
        case "method": false  // nearly every frame: answered first
        case "client_connected", "client_disconnected", "client_updated", "service_added", "service_removed",
            "service_updated", "peer_not_found", "force-exit":
            true
        default: type.hasPrefix("workspace_")
        }
    }

    /// Routes a frame sent by `sender`.
    func route(_ frame: ByteBuffer, from sender: ClientConnection) throws(RouteError) {
        let header = try RoutingHeader.parse(frame)
        let rawTo = header.to ?? ""
        let isOwnBroadcast = rawTo == "*"
        let to = isOwnBroadcast ? "\(sender.workspace)/*" : Address.absolute(rawTo, in: sender.workspace)
        let type = header.type ?? ""
        if sender.isPluginHostOnly, to != managerAddress {
            throw RouteError(
                "Refused message: a worker token only registers plugin hosts and answers the engine; it cannot reach \(to)",
                session: header.session, target: to)
        }
        if Self.isServerEvent(type) {
            throw RouteError("Refused message: '\(type)' events come from the engine only", session: header.session, target: to)
        }
        if !isOwnBroadcast, to.hasSuffix("/*"), to != "\(sender.workspace)/*" {
            throw RouteError(
                "Refused message: events go to your own workspace (to: \"*\"), not to \(to)", session: header.session,
                target: to)
        }
        let rewritten = header.rewritten(to: to, senderFields: sender.senderFields)
        let body = frame.getSlice(at: frame.readerIndex + header.length, length: frame.readableBytes - header.length)
            ?? ByteBuffer()
        try RoutingHeader.checkBody(body, session: header.session, target: to)
        let size = rewritten.readableBytes + body.readableBytes
        if size > maxForwardedFrameSize {
            // An answer that cannot be delivered: tell the caller at once instead of letting its call time out.
            if let method = header.method, method.hasSuffix(".resolve"),
                let caller = table.connection(at: to)
            {
                caller.sink.send(
                    Self.reject(
                        session: String(method.dropLast(".resolve".count)),
                        message: "The answer from \(sender.address) was \(size) bytes, over the \(maxForwardedFrameSize)-byte "
                            + "limit of one message; its sender must chunk large answers (hypha-rpc: long_message_chunk_size "
                            + "≤ 256 KiB)", from: sender.address, to: caller))
            }
            throw RouteError(
                "Message of \(size) bytes to \(to) is larger than the \(maxForwardedFrameSize)-byte limit a client can "
                    + "receive; send large data in chunks (hypha-rpc does this by itself with long_message_chunk_size ≤ 256 KiB)",
                session: header.session, target: to)
        }

        if to == managerAddress {
            var joined = rewritten
            var rest = body
            joined.writeBuffer(&rest)
            managerInbox.yield(Data(joined.readableBytesView))
            return
        }
        if to.hasSuffix("/*") {
            broadcast(.binary(header: rewritten, body: body), type: header.type ?? "", in: String(to.dropLast(2)))
            return
        }
        guard let target = table.connection(at: to) else {
            throw RouteError(
                hosts.offlineReason(for: to) ?? "Target peer \(to) is not connected", session: header.session, target: to)
        }
        if let session = header.session {
            sender.noteContact(to)
            target.callTracker?.opened(session, by: sender.address)
        }
        if let tracker = sender.callTracker, let parent = header.parent {
            tracker.closed(parent)
        }
        target.sink.send(.binary(header: rewritten, body: body))
    }

    /// Routes a frame of the manager peer: `from` is the manager, `ws` the target's workspace.
    func routeFromManager(_ frame: Data) {
        let buffer = ByteBuffer(bytes: frame)
        let header: RoutingHeader
        do {
            header = try RoutingHeader.parse(buffer)
        } catch {
            logger.error("The manager produced an unroutable frame", metadata: ["error": "\(error)"])
            return
        }
        guard let to = header.to, let target = table.connection(at: to) else {
            logger.debug("Manager message for a peer that left", metadata: ["peer.id": "\(header.to ?? "?")"])
            if let session = header.session, let to = header.to {
                var writer = MessagePackWriter()
                writer.write([
                    "type": "method", "from": .string(to), "to": .string(managerAddress),
                    "method": .string("\(session).reject"), "parent": .string(session),
                ])
                let message = hosts.offlineReason(for: to) ?? "Target peer \(to) is not connected"
                writer.write(["args": [["_rtype": "error", "_rvalue": .string(message), "_rtrace": ""]]])
                managerInbox.yield(writer.data)
            }
            return
        }
        let rewritten = header.rewritten(
            to: to, senderFields: RoutingHeader.senderFields(from: managerAddress, workspace: target.workspace, user: managerUser))
        let body = buffer.getSlice(at: header.length, length: buffer.readableBytes - header.length) ?? ByteBuffer()
        target.sink.send(.binary(header: rewritten, body: body))
    }

    /// Sends a frame to every connection of `workspace` subscribed to `type`, plus `alsoTo`.
    func broadcast(_ frame: OutboundFrame, type: String, in workspace: String, alsoTo extra: [ClientConnection] = []) {
        var delivered = Set<UInt64>()
        for connection in table.connections(in: workspace) where connection.isSubscribed(to: type) {
            delivered.insert(connection.serial)
            connection.sink.send(frame)
        }
        for connection in extra where !delivered.contains(connection.serial) {
            delivered.insert(connection.serial)
            connection.sink.send(frame)
        }
    }

    /// A server event `{"type": type, "to": "*", "data": data}` (single segment, no sender).
    static func event(_ type: String, data: MessagePackValue) -> OutboundFrame {
        let bytes = MessagePackEncoder.encodeBytes(["type": .string(type), "to": "*", "data": data])
        return .binary(header: ByteBuffer(bytes: bytes), body: ByteBuffer())
    }

    /// The reject a caller gets when its call cannot be delivered (PROTOCOL.md A.13).
    static func reject(session: String, message: String, from target: String, to caller: ClientConnection)
        -> OutboundFrame
    {
        var writer = MessagePackWriter()
        writer.write([
            "type": "method", "from": .string(target), "to": .string(caller.address),
            "method": .string("\(session).reject"), "parent": .string(session),
            "ws": .string(caller.workspace),
        ])
        writer.write(["args": [["_rtype": "error", "_rvalue": .string(message), "_rtrace": ""]]])
        return .binary(header: ByteBuffer(bytes: writer.bytes), body: ByteBuffer())
    }
}

import MessagePack

/// A sequence of values produced lazily by a peer: a local producer offered to others,
/// or a remote generator pulled item by item.
public struct RPCGenerator: Sendable, AsyncSequence {
    public typealias Element = RPCValue

    public enum Kind: Sendable {
        /// `next` returns `nil` at the end.
        case local(next: @Sendable () async throws -> RPCValue?, close: @Sendable () async -> Void)
        case remote(next: RemoteFunction, close: RemoteFunction?)
    }

    public let kind: Kind

    /// A generator driven by a closure that returns `nil` when exhausted.
    public init(
        next: @escaping @Sendable () async throws -> RPCValue?, close: @escaping @Sendable () async -> Void = {}
    ) {
        kind = .local(next: next, close: close)
    }

    /// A generator over a fixed list of values.
    public init(_ values: [RPCValue]) {
        let box = ValueQueue(values)
        kind = .local(next: { await box.next() }, close: { await box.close() })
    }

    init(remoteNext: RemoteFunction, close: RemoteFunction?) {
        kind = .remote(next: remoteNext, close: close)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let kind: Kind
        var finished = false

        public mutating func next() async throws -> RPCValue? {
            guard !finished else { return nil }
            let value: RPCValue?
            switch kind {
            case .local(let next, _):
                value = try await next()
            case .remote(let next, _):
                let item = try await next.peer.call(next, arguments: [], kwargs: nil)
                value = item.isStopIteration ? nil : item
            }
            if value == nil { finished = true }
            return value
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(kind: kind)
    }

    /// Stops the generator early (calls the remote close method, or the local close closure).
    public func close() async {
        switch kind {
        case .local(_, let close): await close()
        case .remote(_, let close?): _ = try? await close.peer.call(close, arguments: [], kwargs: nil)
        case .remote(_, nil): break
        }
    }
}

extension RPCValue {
    /// The protocol's end-of-generator marker `{"_rtype": "stop_iteration"}`.
    var isStopIteration: Bool {
        if case .encoded(let v) = self, v["_rtype"]?.stringValue == "stop_iteration" { return true }
        if case .object(let o) = self, o["_rtype"]?.stringValue == "stop_iteration" { return true }
        return false
    }
}

/// Hands out the values of an array one at a time.
actor ValueQueue {
    private var values: ArraySlice<RPCValue>

    init(_ values: [RPCValue]) { self.values = values[...] }

    func next() -> RPCValue? { values.popFirst() }
    func close() { values = [] }
}

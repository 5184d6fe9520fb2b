/// An ordered msgpack map. Keys may be any ``MessagePackValue``; string keys have convenient lookups.
///
/// Lookups are linear scans: RPC maps are small, and keeping the wire order makes encoding deterministic.
public struct MessagePackMap: Sendable, Hashable, Sequence {
    /// The entries in wire order.
    public var entries: [(key: MessagePackValue, value: MessagePackValue)]

    public init() { entries = [] }

    public init(_ entries: [(MessagePackValue, MessagePackValue)]) {
        self.entries = entries.map { (key: $0.0, value: $0.1) }
    }

    /// Builds a map with string keys, in the order given.
    public init(stringKeyed pairs: [(String, MessagePackValue)]) {
        self.entries = pairs.map { (key: .string($0.0), value: $0.1) }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The value for a string key; setting `nil` removes the key, setting a value replaces it in place or appends.
    public subscript(key: String) -> MessagePackValue? {
        get {
            for entry in entries {
                if case .string(let k) = entry.key, k == key { return entry.value }
            }
            return nil
        }
        set {
            let index = entries.firstIndex { entry in
                if case .string(let k) = entry.key { return k == key }
                return false
            }
            switch (index, newValue) {
            case (let i?, let v?): entries[i].value = v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append((key: .string(key), value: v))
            case (nil, nil): break
            }
        }
    }

    /// The string keys in order (entries with non-string keys are skipped).
    public var stringKeys: [String] {
        entries.compactMap { $0.key.stringValue }
    }

    public func makeIterator() -> IndexingIterator<[(key: MessagePackValue, value: MessagePackValue)]> {
        entries.makeIterator()
    }

    public static func == (lhs: MessagePackMap, rhs: MessagePackMap) -> Bool {
        guard lhs.entries.count == rhs.entries.count else { return false }
        for (l, r) in zip(lhs.entries, rhs.entries) where l.key != r.key || l.value != r.value {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries.count)
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}

extension MessagePackMap: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, MessagePackValue)...) {
        self.init(stringKeyed: elements)
    }
}

/// An ordered map with string keys: a service, a keyword-argument map, a plain dictionary.
///
/// Lookups and updates are O(1): an index by key sits beside the ordered entries.
public struct RPCObject: Sendable, Sequence {
    /// The entries in order.
    public private(set) var entries: [(key: String, value: RPCValue)]
    private var index: [String: Int]

    public init() {
        entries = []
        index = [:]
    }

    public init(_ pairs: [(String, RPCValue)]) {
        self.init()
        entries.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    /// The value for `key`; assigning `nil` removes it.
    public subscript(key: String) -> RPCValue? {
        get { index[key].map { entries[$0].value } }
        set {
            switch (index[key], newValue) {
            case (let i?, let v?):
                entries[i].value = v
            case (let i?, nil):
                entries.remove(at: i)
                index[key] = nil
                for j in i..<entries.count { index[entries[j].key] = j }
            case (nil, let v?):
                index[key] = entries.count
                entries.append((key: key, value: v))
            case (nil, nil):
                break
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: RPCValue)]> {
        entries.makeIterator()
    }
}

extension RPCObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, RPCValue)...) {
        self.init(elements)
    }
}

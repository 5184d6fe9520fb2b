/// An ordered map with string keys: a service, a keyword-argument map, a plain dictionary.
public struct RPCObject: Sendable, Sequence {
    /// The entries in order.
    public private(set) var entries: [(key: String, value: RPCValue)]

    public init() { entries = [] }

    public init(_ pairs: [(String, RPCValue)]) {
        entries = []
        entries.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    /// The value for `key`; assigning `nil` removes it.
    public subscript(key: String) -> RPCValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            let index = entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let i?, let v?): entries[i].value = v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append((key: key, value: v))
            case (nil, nil): break
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

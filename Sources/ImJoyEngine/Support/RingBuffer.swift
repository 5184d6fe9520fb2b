/// A fixed-capacity buffer that keeps the newest elements.
struct RingBuffer<Element>: Sendable where Element: Sendable {
    let capacity: Int
    private var storage: [Element] = []
    private var start = 0
    /// Elements ever appended (so readers can ask for what came after a point).
    private(set) var appendedCount = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a ring buffer needs room for at least one element")
        self.capacity = capacity
        storage.reserveCapacity(min(capacity, 1024))
    }

    mutating func append(_ element: Element) {
        appendedCount += 1
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[start] = element
            start = (start + 1) % capacity
        }
    }

    /// Oldest first.
    var elements: [Element] {
        Array(storage[start...] + storage[..<start])
    }

    var count: Int { storage.count }

    /// The newest `n` elements, oldest first.
    func suffix(_ n: Int) -> [Element] {
        Array(elements.suffix(n))
    }
}

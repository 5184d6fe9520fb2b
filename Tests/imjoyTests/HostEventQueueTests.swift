import ImJoyRPC
import Logging
import Synchronization
import Testing

@testable import imjoy

@Suite struct HostEventQueueTests {
    private let logger = Logger(label: "test")

    /// Collects what the forwarder sends, batch by batch.
    private final class Received: Sendable {
        let batches = Mutex<[[Int]]>([])
        var all: [Int] { batches.withLock { $0.flatMap { $0 } } }
        func add(_ batch: [RPCValue]) { batches.withLock { $0.append(batch.map { $0.intValue ?? -1 }) } }
    }

    private func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<400 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func eventsQueuedBeforeAndWhileForwardingArriveInOrderInBoundedBatches() async throws {
        let queue = HostEventQueue(capacity: 100, batchSize: 4)
        let received = Received()
        for index in 0..<10 { queue.add(.int(Int64(index))) }
        let forwarding = Task { await queue.forward(logger: logger) { received.add($0) } }
        try await waitFor { received.all.count == 10 }
        for index in 10..<13 { queue.add(.int(Int64(index))) }
        try await waitFor { received.all.count == 13 }
        forwarding.cancel()
        await forwarding.value
        #expect(received.all == Array(0..<13))
        #expect(received.batches.withLock { $0.allSatisfy { $0.count <= 4 } })
        #expect(queue.count == 0)
    }

    @Test func withNobodyForwardingTheOldestEventsGiveWayToTheNewest() async throws {
        let queue = HostEventQueue(capacity: 5, batchSize: 100)
        for index in 0..<12 { queue.add(.int(Int64(index))) }
        #expect(queue.count == 5)
        let received = Received()
        let forwarding = Task { await queue.forward(logger: logger) { received.add($0) } }
        try await waitFor { received.all.count == 5 }
        forwarding.cancel()
        await forwarding.value
        #expect(received.all == [7, 8, 9, 10, 11])
    }

    @Test func aFailedBatchIsDroppedAndTheNextOnesStillGo() async throws {
        let queue = HostEventQueue(capacity: 100, batchSize: 1)
        let received = Received()
        struct Refused: Error {}
        queue.add(.int(0))
        queue.add(.int(1))
        let forwarding = Task {
            await queue.forward(logger: logger) { batch in
                if batch.first?.intValue == 0 { throw Refused() }
                received.add(batch)
            }
        }
        try await waitFor { received.all == [1] }
        forwarding.cancel()
        await forwarding.value
        #expect(received.all == [1])
    }

    @Test func cancellingAnIdleForwarderEndsItAndALaterOneSendsWhatCameMeanwhile() async throws {
        let queue = HostEventQueue()
        let received = Received()
        let first = Task { await queue.forward(logger: logger) { received.add($0) } }
        try await Task.sleep(for: .milliseconds(20))
        first.cancel()
        await first.value  // returns although nothing was queued
        queue.add(.int(42))
        #expect(queue.count == 1)
        let second = Task { await queue.forward(logger: logger) { received.add($0) } }
        try await waitFor { received.all == [42] }
        second.cancel()
        await second.value
        #expect(received.all == [42])
    }
}

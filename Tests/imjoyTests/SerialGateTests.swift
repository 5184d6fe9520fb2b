import Synchronization
import Testing

@testable import imjoy

@Suite(.timeLimit(.minutes(1))) struct SerialGateTests {
    /// What happened at the gate, in order: `n` ticket n entered, `1000 + n` it left; and the most inside at once.
    private final class Journal: Sendable {
        private let state = Mutex<(events: [Int], inside: Int, most: Int)>(([], 0, 0))
        var events: [Int] { state.withLock { $0.events } }
        var most: Int { state.withLock { $0.most } }
        var entries: [Int] { events.filter { $0 < 1_000 } }

        func entered(_ ticket: Int) {
            state.withLock {
                $0.events.append(ticket)
                $0.inside += 1
                $0.most = max($0.most, $0.inside)
            }
        }

        func left(_ ticket: Int) {
            state.withLock {
                $0.events.append(1_000 + ticket)
                $0.inside -= 1
            }
        }
    }

    /// Whether a task has got past the gate.
    private final class Flag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    /// Lets a task that should be stuck at the gate try for a while (a wrong gate lets it through meanwhile).
    private func settle() async throws {
        for _ in 0..<10 {
            await Task.yield()
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Tickets arrive in `arrival` order, as the batch runner's tasks do: enter, record, send (at once), stay for
    /// a few scheduler turns, record, leave.
    private func pass(_ arrival: [Int], capacity: Int) async -> Journal {
        let gate = SerialGate(capacity: capacity)
        let journal = Journal()
        await withTaskGroup(of: Void.self) { group in
            for ticket in arrival {
                group.addTask {
                    await gate.enter(ticket)
                    journal.entered(ticket)
                    await gate.sent(ticket)
                    for _ in 0..<(ticket % 3 + 1) * 20 { await Task.yield() }
                    journal.left(ticket)
                    await gate.leave(ticket)
                }
                for _ in 0..<5 { await Task.yield() }
            }
        }
        return journal
    }

    @Test func withCapacityOneTicketsEnterInTheirOrderOneAtATimeWhateverOrderTheyArriveIn() async {
        let journal = await pass([3, 1, 4, 0, 2, 6, 5, 7], capacity: 1)
        // Strictly one at a time: every entry follows the previous ticket's leave.
        #expect(journal.events == (0..<8).flatMap { [$0, 1_000 + $0] })
        #expect(journal.most == 1)
    }

    @Test func withCapacityTwoTicketsEnterInTheirOrderAndNeverMoreThanTwoAreInside() async {
        let journal = await pass([5, 0, 2, 1, 3, 7, 4, 6, 8, 9], capacity: 2)
        // A ticket enters only after the one before it sent (recorded before that): entries are in order.
        #expect(journal.entries == Array(0..<10))
        #expect(journal.most <= 2)
    }

    @Test func theNextTicketEntersOnceTheCallBeforeItIsSentAndThereIsRoom() async throws {
        let gate = SerialGate(capacity: 2)
        await gate.enter(0)
        let second = Flag()
        let secondEnters = Task {
            await gate.enter(1)
            second.set()
        }
        try await settle()
        #expect(!second.isSet, "ticket 1 must wait until ticket 0's call is sent")
        await gate.sent(0)
        await secondEnters.value
        let third = Flag()
        let thirdEnters = Task {
            await gate.enter(2)
            third.set()
        }
        await gate.sent(1)
        try await settle()
        #expect(!third.isSet, "two are inside: ticket 2 waits for one to leave")
        await gate.leave(0)
        await thirdEnters.value
        await gate.leave(1)
        await gate.leave(2)
    }

    @Test func aTicketThatFailsBeforeItsCallIsSentLetsTheNextOneThrough() async {
        // The batch runner's paths for an input whose call could not be sent, and for one that failed in an
        // earlier step (it enters the later steps' gates and leaves at once): leaving counts as sent.
        let gate = SerialGate(capacity: 2)
        await gate.enter(0)
        let next = Task { await gate.enter(1) }
        await gate.leave(0)
        await next.value
        await gate.leave(1)
        await gate.enter(2)
        await gate.leave(2)
        await gate.enter(3)
        await gate.sent(3)
        await gate.enter(4)
        await gate.leave(3)
        await gate.leave(4)
    }
}

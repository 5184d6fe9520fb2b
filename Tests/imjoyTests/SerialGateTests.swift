import Synchronization
import Testing

@testable import imjoy

@Suite struct SerialGateTests {
    /// What happened at the gate, in order: `+n` ticket n entered, `-n` it left; and the most inside at once.
    private final class Journal: Sendable {
        private let state = Mutex<(events: [Int], inside: Int, most: Int)>(([], 0, 0))
        var events: [Int] { state.withLock { $0.events } }
        var most: Int { state.withLock { $0.most } }
        var entries: [Int] { events.filter { $0 >= 0 && $0 < 1_000 } }

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

    /// Tickets arrive in `arrival` order; each stays inside for a few scheduler turns.
    private func pass(_ arrival: [Int], capacity: Int) async -> Journal {
        let gate = SerialGate(capacity: capacity)
        let journal = Journal()
        await withTaskGroup(of: Void.self) { group in
            for ticket in arrival {
                group.addTask {
                    await gate.enter(ticket)
                    journal.entered(ticket)
                    for _ in 0..<(ticket % 3 + 1) * 20 { await Task.yield() }
                    journal.left(ticket)
                    await gate.leave()
                }
                for _ in 0..<5 { await Task.yield() }
            }
        }
        return journal
    }

    @Test func withCapacityOneTicketsEnterInTheirOrderOneAtATimeWhateverOrderTheyArriveIn() async {
        let journal = await pass([3, 1, 4, 0, 2, 6, 5, 7], capacity: 1)
        #expect(journal.entries == Array(0..<8))
        #expect(journal.most == 1)
        // Strictly one at a time: every entry follows the previous ticket's leave.
        #expect(journal.events == (0..<8).flatMap { [$0, 1_000 + $0] })
    }

    @Test func withCapacityTwoTheNextTicketEntersWhileOneIsInsideAndNeverAThird() async {
        let journal = await pass([5, 0, 2, 1, 3, 7, 4, 6, 8, 9], capacity: 2)
        #expect(journal.entries == Array(0..<10))
        #expect(journal.most == 2)
    }

    @Test func aTicketThatLeavesAtOnceLetsTheNextOnesThrough() async {
        // The batch runner's path for an input that failed in an earlier step: enter and leave at once.
        let gate = SerialGate(capacity: 2)
        await gate.enter(0)
        await gate.enter(1)
        let third = Task { await gate.enter(2) }
        await gate.leave()
        await third.value
        await gate.leave()
        await gate.leave()
        await gate.enter(3)
        await gate.leave()
    }
}

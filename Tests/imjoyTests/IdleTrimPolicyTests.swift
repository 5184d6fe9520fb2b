import Testing

@testable import imjoy

@Suite struct IdleTrimPolicyTests {
    /// Feeds CPU times (ms) one per interval; returns the indices at which the policy asked for a trim.
    private func trims(_ samples: [Int], quietSamples: Int = 3) -> [Int] {
        var policy = IdleTrimPolicy(quietSamples: quietSamples, trimmedAt: .milliseconds(samples[0]))
        return samples.indices.dropFirst().filter { policy.shouldTrim(cpuTime: .milliseconds(samples[$0])) }
    }

    @Test func anIdleEngineThatDidNothingIsNeverTrimmedAgain() {
        #expect(trims(Array(repeating: 100, count: 20)).isEmpty)
    }

    @Test func aBurstIsTrimmedOnceAfterTheWholeQuietPeriod() {
        // Work until index 3 (CPU 100 → 400 ms), then quiet: the trim comes 3 quiet intervals later, once.
        let samples = [100, 200, 300, 400, 401, 402, 403, 404, 405, 406, 407]
        #expect(trims(samples) == [6])
    }

    @Test func aPauseShorterThanTheQuietPeriodDoesNotTrim() {
        // Two quiet intervals, then work again, then a full quiet period.
        let samples = [0, 100, 100, 100, 200, 300, 300, 300, 300]
        #expect(trims(samples) == [8])
    }

    @Test func littleWorkSinceTheLastTrimDoesNotTrim() {
        // 10 ms of work (below the 20 ms minimum) spread out, then quiet.
        let samples = [0, 5, 10, 10, 10, 10, 10, 10]
        #expect(trims(samples).isEmpty)
    }

    @Test func backgroundTicksBelowTheQuietThresholdStillCountAsQuiet() {
        // 1 ms per interval (pings, timers) after a burst is quiet.
        let samples = [0, 50, 51, 52, 53, 54, 55]
        #expect(trims(samples) == [4])
    }
}

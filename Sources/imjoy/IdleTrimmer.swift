#if canImport(Glibc)
import Glibc
#endif
import ServiceLifecycle

/// Decides when an engine has gone quiet after a burst of work, from samples of its CPU time.
///
/// It asks for a trim when the process used at least `minimumWork` of CPU since the last trim (start-up counts)
/// and then less than `quietCPU` per interval, on average, over the last `quietSamples` intervals (an idle engine
/// still spends a fraction of a millisecond a second on timers).
struct IdleTrimPolicy: Sendable {
    var quietSamples: Int
    var quietCPU: Duration
    var minimumWork: Duration
    private var cpuAtTrim: Duration
    private var recent: [Duration]

    /// `trimmedAt`: the process's CPU time at the last trim (work before it does not count).
    init(
        quietSamples: Int, quietCPU: Duration = .milliseconds(2), minimumWork: Duration = .milliseconds(20),
        trimmedAt: Duration
    ) {
        self.quietSamples = max(1, quietSamples)
        self.quietCPU = quietCPU
        self.minimumWork = minimumWork
        cpuAtTrim = trimmedAt
        recent = [trimmedAt]
    }

    /// Takes the process's CPU time now; true when the caller should trim (and the policy counts it as done).
    mutating func shouldTrim(cpuTime: Duration) -> Bool {
        recent.append(cpuTime)
        if recent.count > quietSamples + 1 { recent.removeFirst(recent.count - quietSamples - 1) }
        guard recent.count == quietSamples + 1, cpuTime - recent[0] < quietCPU * quietSamples, cpuTime - cpuAtTrim >= minimumWork
        else { return false }
        cpuAtTrim = cpuTime
        recent = [cpuTime]
        return true
    }
}

/// Gives memory back once the engine has been quiet for a while after work: the code pages the work touched
/// (``WorkingSet/trimCode()``) and the heap it freed but malloc kept (``WorkingSet/trimHeap()``). Start-up is the
/// first such burst; relaying large arrays is another (it leaves ~10 MB behind).
///
/// The quiet period is long (30 s by default) on purpose: a trim is cheap, but the next request refaults the code
/// it needs (~7 MB for the first connection), which would show as memory growth on a server that is only
/// pausing between requests.
struct IdleTrimmer: Sendable {
    var interval: Duration = .seconds(1)
    var quietPeriod: Duration = .seconds(30)
    /// Start-up is trimmed sooner: nothing it touched is needed again.
    var startUpDelay: Duration = .seconds(1)

    /// Trims once start-up is over, then after every burst of work; returns when the task is cancelled.
    func run() async {
        do { try await Task.sleep(for: startUpDelay) } catch { return }
        WorkingSet.trim()
        var policy = IdleTrimPolicy(
            quietSamples: Int((quietPeriod / interval).rounded(.up)), trimmedAt: Self.processCPUTime())
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            if policy.shouldTrim(cpuTime: Self.processCPUTime()) { WorkingSet.trim() }
        }
    }

    /// User plus system CPU time of this process.
    static func processCPUTime() -> Duration {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .zero }
        func duration(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }
}

/// Runs an ``IdleTrimmer`` next to the engine until shutdown.
struct IdleTrimmerService: Service {
    var trimmer = IdleTrimmer()

    func run() async throws {
        await cancelWhenGracefulShutdown { await trimmer.run() }
    }
}

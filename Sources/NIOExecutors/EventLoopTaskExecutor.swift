public import NIOCore

/// Runs a task's jobs on a NIO event loop.
///
/// A task that prefers it (`Task(executorPreference:)`, `withTaskExecutorPreference`) runs its code on the
/// socket's own thread, and so do the default actors it calls (they follow a task's executor preference, SE-0417),
/// instead of being handed to the concurrency pool and back for every message. The engine's handshake and the
/// Swift client's receive loop use it. Work on it must not block: it shares the thread with the socket's I/O.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Synchronization

/// One line of a plugin's log.
public struct PluginLogEntry: Sendable, Hashable {
    public enum Source: String, Sendable {
        /// The plugin's stdout / stderr.
        case stdout, stderr
        /// Environment installer output.
        case install
        /// What the engine says about the plugin (phases, exits).
        case engine
    }

    /// Position in the log since the plugin was first started (for incremental reads).
    public var index: Int
    public var time: Date
    public var source: Source
    public var text: String
}

/// A plugin's recent output: a ring buffer of lines, shared by the process reader and API readers.
public final class PluginLog: Sendable {
    private let lines: Mutex<RingBuffer<PluginLogEntry>>
    private let stderrTail: Mutex<RingBuffer<String>>
    private let onAppend: @Sendable (PluginLogEntry) -> Void

    /// - Parameter onAppend: hears every new line (to stream it live); called on the appending task.
    public init(
        capacity: Int = 2000, stderrTailLength: Int = 20, onAppend: @escaping @Sendable (PluginLogEntry) -> Void = { _ in }
    ) {
        lines = Mutex(RingBuffer(capacity: capacity))
        stderrTail = Mutex(RingBuffer(capacity: stderrTailLength))
        self.onAppend = onAppend
    }

    public func append(_ source: PluginLogEntry.Source, _ text: String) {
        let entry = lines.withLock { buffer in
            let entry = PluginLogEntry(index: buffer.appendedCount, time: Date(), source: source, text: text)
            buffer.append(entry)
            return entry
        }
        if source == .stderr { stderrTail.withLock { $0.append(text) } }
        onAppend(entry)
    }

    /// Entries with `index >= since`, the newest `limit` of them.
    public func entries(since: Int = 0, limit: Int = 2000) -> [PluginLogEntry] {
        lines.withLock { buffer in buffer.elements.filter { $0.index >= since }.suffix(limit) }.map { $0 }
    }

    /// The last lines the plugin wrote to stderr.
    public var recentErrors: [String] { stderrTail.withLock { $0.elements } }

    /// Forgets the stderr tail (at a restart, so a new crash reports only its own lines).
    public func clearErrors() {
        stderrTail.withLock { $0 = RingBuffer(capacity: $0.capacity) }
    }
}

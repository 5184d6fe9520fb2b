import Logging

/// Logging of every command: lines on stderr from `level` up (bootstrapped once per process).
enum StandardErrorLogging {
    static func bootstrap(_ level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

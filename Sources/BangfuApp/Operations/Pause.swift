import Logging
import ServiceLifecycle

/// Waits `duration` unless the server begins to shut down: false then, so a background service
/// (backups, reminders) ends its loop instead of starting another round.
func pauseUnlessShuttingDown(for duration: Duration) async -> Bool {
    do {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
        return !Task.isCancelled
    } catch {
        return false
    }
}

/// The loop of the mail outbox's service: a pass after another while passes find
/// work, a pause of `interval` when one finds none (which also picks up what other processes
/// sharing the database wrote); the first pass after a pause, once the server has applied its
/// migrations. Ends when the server shuts down; a failed pass is logged and waited out.
func drainWhileServing(
    every interval: Duration, logger: Logger, what: String, pass: () async throws -> Int
) async {
    var busy = false
    while true {
        if !busy {
            guard await pauseUnlessShuttingDown(for: interval) else { return }
        } else if Task.isCancelled || Task.isShuttingDownGracefully {
            return
        }
        do {
            busy = try await pass() > 0
        } catch {
            busy = false
            logger.error("\(what) failed", metadata: ["error": .string(OperatorError.describing(error).message)])
        }
    }
}

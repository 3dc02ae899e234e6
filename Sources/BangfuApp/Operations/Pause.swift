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

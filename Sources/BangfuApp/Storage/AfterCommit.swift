import NIOConcurrencyHelpers

/// Work that must wait until the transaction it belongs to has committed: waking the live inbox
/// streams, which must not show a notification that might still roll back. `SQLTransaction.run`
/// sets one for each write transaction and runs it after `COMMIT` (never after a rollback).
final class AfterCommit: Sendable {
    @TaskLocal static var current: AfterCommit?

    private let actions = NIOLockedValueBox<[@Sendable () -> Void]>([])

    /// Runs `action` once the current write transaction commits; at once outside of one.
    static func schedule(_ action: @escaping @Sendable () -> Void) {
        if let current {
            current.actions.withLockedValue { $0.append(action) }
        } else {
            action()
        }
    }

    func run() {
        let due = actions.withLockedValue { pending in
            defer { pending = [] }
            return pending
        }
        for action in due { action() }
    }
}

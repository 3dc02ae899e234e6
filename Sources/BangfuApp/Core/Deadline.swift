import Foundation

/// `operation`, or `DeadlineExceeded` once `seconds` have passed (the operation is cancelled).
func withDeadline<T: Sendable>(seconds: TimeInterval, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw DeadlineExceeded() }
        return first
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var description: String { "no answer in time" }
}

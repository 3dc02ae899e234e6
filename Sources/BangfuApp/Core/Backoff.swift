import Foundation

/// When a delivery that failed is tried again (webhooks, e-mail): `base` after the first
/// failure, doubling, and a last time when a day has passed since the event (a doubling that
/// would go beyond is cut short there); then it is given up.
enum Backoff {
    /// How long a delivery is retried before it is given up.
    static let window: TimeInterval = 24 * 3600

    /// The next attempt after `failures` failed ones, or nil once the window of `createdAt` has
    /// passed.
    static func next(afterFailures failures: Int64, base: TimeInterval, createdAt: Date, now: Date) -> Date? {
        let end = createdAt.addingTimeInterval(window)
        guard now < end else { return nil }
        let doublings = Double(min(max(failures - 1, 0), 30))
        return min(now.addingTimeInterval(base * pow(2, doublings)), end)
    }
}

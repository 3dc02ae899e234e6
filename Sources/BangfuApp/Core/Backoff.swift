import Foundation

/// When a delivery that failed is tried again (webhooks, e-mail): `base` after the first
/// failure, doubling, for a day after the event; then it is given up.
enum Backoff {
    /// How long a delivery is retried before it is given up.
    static let window: TimeInterval = 24 * 3600

    /// The next attempt after `failures` failed ones, or nil once that falls beyond `window` of
    /// `createdAt`.
    static func next(afterFailures failures: Int64, base: TimeInterval, createdAt: Date, now: Date) -> Date? {
        let doublings = Double(min(max(failures - 1, 0), 30))
        let next = now.addingTimeInterval(base * pow(2, doublings))
        return next.timeIntervalSince(createdAt) > window ? nil : next
    }
}

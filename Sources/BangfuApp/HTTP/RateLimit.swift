import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// A token bucket (pure): `capacity` requests at once, refilled at `perMinute` a minute.
struct TokenBucket: Sendable, Equatable {
    var tokens: Double
    var updated: Date

    /// Takes one token at `now` if there is one; otherwise answers the seconds until there is.
    mutating func take(at now: Date, capacity: Double, perMinute: Double) -> Double? {
        let elapsed = max(0, now.timeIntervalSince(updated))
        tokens = min(capacity, tokens + elapsed * perMinute / 60)
        updated = max(updated, now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return (1 - tokens) * 60 / perMinute
    }
}

/// Per-address limits on the routes that cost the server most: catalog search, CSV exports,
/// reports, audit verification, uploads and self-registration (issue 11). Cheap routes, and the
/// order route (bounded per user by idempotency and quota), are not limited here; sign-in has its
/// own throttling (API.md).
///
/// The state is a dictionary behind a lock, touched for a few microseconds per limited request;
/// past `maxAddresses` it forgets addresses whose bucket has refilled (at most once a minute).
/// Addresses are whole peer addresses (an IPv6 client with many addresses gets many buckets).
final class RateLimiter: Sendable {
    /// Requests a minute per address; 0 turns limiting off. The burst is a tenth of a minute's
    /// allowance, at least 10.
    let perMinute: Int
    private struct State {
        var buckets: [String: TokenBucket] = [:]
        var lastSweep = Date.distantPast
    }
    private let state = NIOLockedValueBox(State())
    private let maxAddresses = 50_000

    init(perMinute: Int) { self.perMinute = perMinute }

    var capacity: Double { max(10, Double(perMinute) / 10) }

    /// nil when `address` may go on; otherwise the seconds to wait.
    func check(_ address: String, at now: Date) -> Double? {
        guard perMinute > 0 else { return nil }
        let (capacity, rate, limit) = (capacity, Double(perMinute), maxAddresses)
        return state.withLockedValue { state in
            // Past the bound, forget the addresses whose bucket has refilled, at most once a
            // minute (a sweep is a pass over the table); if that frees nothing, start afresh.
            if state.buckets.count > limit, now.timeIntervalSince(state.lastSweep) > 60 {
                state.lastSweep = now
                state.buckets = state.buckets.filter { _, bucket in
                    bucket.tokens + now.timeIntervalSince(bucket.updated) * rate / 60 < capacity
                }
                if state.buckets.count > limit { state.buckets.removeAll() }
            }
            var bucket = state.buckets[address] ?? TokenBucket(tokens: capacity, updated: now)
            let wait = bucket.take(at: now, capacity: capacity, perMinute: rate)
            state.buckets[address] = bucket
            return wait
        }
    }
}

/// Answers 429 `rate_limited` with `Retry-After` when an address exceeds its allowance.
///
/// Attached to the routes it guards (a route group in each controller), never matched on path
/// strings: whatever spelling the router serves (`/api/v1/products/`, `//api/v1/products`) is
/// the same route and is counted the same.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Which requests of the route count.
    enum When: Sendable {
        /// Every request (reports, audit verification, uploads, registration).
        case always
        /// Only a search (`q` not empty): browsing the catalog is cheap, searching is not.
        case searching
        /// Only a CSV export (`?format=csv` or `Accept: text/csv`).
        case exporting
    }

    let limiter: RateLimiter
    let clock: AppClock
    let when: When

    func counts(_ request: Request) -> Bool {
        switch when {
        case .always: true
        case .searching: !(request.uri.queryParameters["q"].map { $0.isEmpty } ?? true)
        case .exporting: (try? CSV.isRequested(request)) ?? false
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if limiter.perMinute > 0, counts(request), let wait = limiter.check(context.clientAddress, at: clock.now) {
            throw DomainError.rateLimited(retryAfterSeconds: Int64(wait.rounded(.up)))
        }
        return try await next(request, context)
    }
}

import Foundation
import NIOConcurrencyHelpers
import Hummingbird
import NIOCore

/// Rendered public catalog answers (listing and search pages, the detail of a product on sale),
/// which do not depend on who asks, kept for `ttl` (1 s by default) so that a busy catalog renders
/// each page about once a second instead of once a request (issue 4's speed targets).
///
/// Nothing lags a change committed in this process:
/// - Every state-changing request of the catalog, orders, refunds and ratings empties the cache
///   when it succeeds (`CatalogInvalidationMiddleware`), so listing, delisting, edits, suspension,
///   revocation, new certificates, and the stock and sales every order moves show at once. A
///   computation that began before such a change is not stored (`generation`).
/// - Writes of other processes on a shared PostgreSQL cannot empty it, so on PostgreSQL the cache
///   is off unless the operator turns it on (`--catalog-cache-ms`) for a single process.
/// - A page is never served past the earliest certificate expiry among its products, so expiry
///   still hides a product at its instant.
/// - Once a page's `ttl` has passed, for one more `ttl` it is still served while a single
///   request renders it afresh in the background, so readers do not queue behind a slow search.
///
/// Bounded to `maxBytes` of bodies: past that the cache starts afresh.
final class CatalogCache: Sendable {
    struct Page: Sendable {
        let body: ByteBuffer
        /// Served without refreshing until then.
        let fresh: Date
        /// Never served from then on (the earliest certificate expiry on the page).
        let deadline: Date
    }

    typealias Render = @Sendable () async throws -> (body: ByteBuffer, deadline: Date?)

    private enum Slot {
        case ready(Page)
        case pending(Task<Page, any Error>)
        case refreshing(Page, Task<Page, any Error>)
    }

    private struct State {
        var generation: UInt64 = 0
        var slots: [String: Slot] = [:]
        var bytes = 0

        /// Puts `slot` (or nothing) under `key`, keeping `bytes` the sum of the bodies held.
        mutating func set(_ key: String, _ slot: Slot?) {
            switch slots[key] {
            case .ready(let old), .refreshing(let old, _): bytes -= old.body.readableBytes
            case .pending, nil: break
            }
            slots[key] = slot
            switch slot {
            case .ready(let new), .refreshing(let new, _): bytes += new.body.readableBytes
            case .pending, nil: break
            }
        }
    }

    private let state = NIOLockedValueBox(State())
    let ttl: TimeInterval
    private let clock: AppClock
    private let maxBytes: Int

    init(ttl: Duration, clock: AppClock, maxBytes: Int = 64 << 20) {
        let (seconds, attoseconds) = ttl.components
        self.ttl = Double(seconds) + Double(attoseconds) / 1e18
        self.clock = clock
        self.maxBytes = maxBytes
    }

    var isEnabled: Bool { ttl > 0 }

    /// Forgets every page: called after a change that may alter what the catalog shows.
    func invalidate() {
        guard isEnabled else { return }
        state.withLockedValue { state in
            state.generation &+= 1
            state.slots.removeAll()
            state.bytes = 0
        }
    }

    /// The page for `key`, from the cache or from `render` (concurrent misses share one render).
    func page(_ key: String, render: @escaping Render) async throws -> ByteBuffer {
        guard isEnabled else { return try await render().body }
        let now = clock.now
        enum Plan {
            case serve(ByteBuffer)
            case wait(Task<Page, any Error>, UInt64)
            case refresh(ByteBuffer, Task<Page, any Error>, UInt64)
        }
        let plan: Plan = state.withLockedValue { state in
            let generation = state.generation
            switch state.slots[key] {
            case .ready(let page) where now < page.deadline && now < page.fresh:
                return .serve(page.body)
            case .ready(let page) where now < page.deadline && now < page.fresh + ttl:
                let task = Task { try await self.rendered(render) }
                state.set(key, .refreshing(page, task))
                return .refresh(page.body, task, generation)
            case .refreshing(let page, _) where now < page.deadline && now < page.fresh + ttl:
                return .serve(page.body)
            case .pending(let task):
                return .wait(task, generation)
            default:
                let task = Task { try await self.rendered(render) }
                state.set(key, .pending(task))
                return .wait(task, generation)
            }
        }
        switch plan {
        case .serve(let body):
            return body
        case .refresh(let body, let task, let generation):
            Task { _ = try? await finish(key, task, generation) }
            return body
        case .wait(let task, let generation):
            return try await finish(key, task, generation).body
        }
    }

    /// A page already cached and still servable, if any (no render).
    func cached(_ key: String) -> ByteBuffer? {
        guard isEnabled else { return nil }
        let now = clock.now
        return state.withLockedValue { state in
            if case .ready(let page) = state.slots[key], now < page.deadline, now < page.fresh { return page.body }
            return nil
        }
    }

    /// The current generation, to pass to `store` after rendering outside `page`.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Keeps a page rendered by the caller, unless the cache was emptied since `generation`.
    func store(_ key: String, body: ByteBuffer, deadline: Date?, generation: UInt64) {
        guard isEnabled else { return }
        let page = Page(body: body, fresh: clock.now.addingTimeInterval(ttl), deadline: deadline ?? .distantFuture)
        state.withLockedValue { state in Self.put(page, key, generation, into: &state, maxBytes: maxBytes) }
    }

    private func rendered(_ render: Render) async throws -> Page {
        let (body, deadline) = try await render()
        return Page(body: body, fresh: clock.now.addingTimeInterval(ttl), deadline: deadline ?? .distantFuture)
    }

    private func finish(_ key: String, _ task: Task<Page, any Error>, _ generation: UInt64) async throws -> Page {
        do {
            let page = try await task.value
            state.withLockedValue { state in
                switch state.slots[key] {
                case .pending(let current) where current == task, .refreshing(_, let current) where current == task:
                    state.set(key, nil)
                    Self.put(page, key, generation, into: &state, maxBytes: maxBytes)
                default: break
                }
            }
            return page
        } catch {
            state.withLockedValue { state in
                switch state.slots[key] {
                case .pending(let current) where current == task, .refreshing(_, let current) where current == task:
                    state.set(key, nil)
                default: break
                }
            }
            throw error
        }
    }

    private static func put(_ page: Page, _ key: String, _ generation: UInt64, into state: inout State, maxBytes: Int) {
        guard state.generation == generation else { return }
        state.set(key, nil)
        if state.bytes + page.body.readableBytes > maxBytes {
            state.slots.removeAll()
            state.bytes = 0
        }
        state.set(key, .ready(page))
    }
}

/// Empties the catalog cache (and the facet counts) after every state-changing request of the
/// routes it is attached to (a route group in `buildRouter`: reference data, merchants, products,
/// certification, certificates, orders and refunds, ratings) that succeeded or failed on the
/// server's side (a 5xx may come after a commit), so no catalog answer is older than a change
/// this process committed. Sessions, registration, buyer organizations, filings, invoices and
/// merchant applications cannot change what the catalog shows. Refusals (4xx) come before
/// anything is written and leave the cache alone, so nobody can keep it cold by sending bad
/// requests.
struct CatalogInvalidationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let cache: CatalogCache
    let facets: FacetCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let changes =
            (cache.isEnabled || facets.isEnabled) && ![.get, .head, .options].contains(request.method)
        do {
            let response = try await next(request, context)
            if changes, response.status.code < 400 || response.status.code >= 500 { invalidate() }
            return response
        } catch {
            let status = (error as? DomainError)?.kind.status.code ?? (error as? any HTTPResponseError)?.status.code ?? 500
            if changes, status >= 500 { invalidate() }
            throw error
        }
    }

    private func invalidate() {
        cache.invalidate()
        facets.invalidate()
    }
}

import Foundation
import NIOConcurrencyHelpers

/// Facet counts cost a pass over the whole filtered set, which for the unfiltered catalog is
/// every listed product; the counts are kept for `ttl` per filter, and requests that miss at the
/// same moment share one computation, so a busy catalog counts each filter at most once per
/// period. Once a filter has counts, expired ones keep being served while one request refreshes
/// them in the background, so no reader waits for a count. Counts may therefore lag a change by
/// about `ttl` (5 s by default); items never do. Bounded: past `capacity` entries the cache
/// starts afresh.
final class FacetCache: Sendable {
    typealias Facets = (category: [ProductStore.FacetCount], county: [ProductStore.FacetCount], label: [ProductStore.FacetCount])

    private enum Slot {
        case ready(expires: ContinuousClock.Instant, facets: Facets)
        case pending(Task<Facets, any Error>)
        /// Expired counts still served while `refresh` computes new ones.
        case refreshing(stale: Facets, refresh: Task<Facets, any Error>)
    }

    private let slots = NIOLockedValueBox<[String: Slot]>([:])
    private let ttl: Duration
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant

    init(ttl: Duration, capacity: Int = 2000, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.ttl = ttl
        self.capacity = capacity
        self.now = now
    }

    static func key(_ filter: ProductFilter) -> String {
        [
            filter.query?.pieces.joined(separator: " ") ?? "", filter.categoryId ?? "", filter.countyCode ?? "",
            filter.label ?? "", filter.minPriceFen.map(String.init) ?? "", filter.maxPriceFen.map(String.init) ?? "",
        ].joined(separator: "\u{1F}")
    }

    /// The cached counts for `filter`, or those `compute` produces (then kept for `ttl`).
    func facets(for filter: ProductFilter, compute: @escaping @Sendable () async throws -> Facets) async throws -> Facets {
        guard ttl > .zero else { return try await compute() }
        let key = Self.key(filter)
        let instant = now()
        enum Plan {
            case serve(Facets)
            case wait(Task<Facets, any Error>)
            case refresh(stale: Facets, task: Task<Facets, any Error>)
        }
        let plan: Plan = slots.withLockedValue { slots in
            switch slots[key] {
            case .ready(let expires, let facets) where expires > instant:
                return .serve(facets)
            case .ready(_, let stale):
                let task = Task { try await compute() }
                slots[key] = .refreshing(stale: stale, refresh: task)
                return .refresh(stale: stale, task: task)
            case .refreshing(let stale, _):
                return .serve(stale)
            case .pending(let task):
                return .wait(task)
            case nil:
                if slots.count >= capacity { slots.removeAll(keepingCapacity: true) }
                let task = Task { try await compute() }
                slots[key] = .pending(task)
                return .wait(task)
            }
        }
        switch plan {
        case .serve(let facets):
            return facets
        case .refresh(let stale, let task):
            // The refresh finishes on its own; this reader keeps the stale counts.
            Task { _ = try? await finish(key, task, startedAt: instant) }
            return stale
        case .wait(let task):
            return try await finish(key, task, startedAt: instant)
        }
    }

    @discardableResult
    private func finish(_ key: String, _ task: Task<Facets, any Error>, startedAt: ContinuousClock.Instant) async throws
        -> Facets
    {
        do {
            let facets = try await task.value
            // Only over this very computation: after an invalidation, a newer one may hold the slot,
            // and a late result of the older must not replace it.
            slots.withLockedValue { slots in
                switch slots[key] {
                case .pending(let current) where current == task,
                    .refreshing(_, let current) where current == task:
                    slots[key] = .ready(expires: startedAt + ttl, facets: facets)
                default: break
                }
            }
            return facets
        } catch {
            slots.withLockedValue { slots in
                switch slots[key] {
                case .pending(let current) where current == task: slots[key] = nil
                case .refreshing(let stale, let current) where current == task:
                    slots[key] = .ready(expires: startedAt, facets: stale)
                default: break
                }
            }
            throw error
        }
    }

    var isEnabled: Bool { ttl > .zero }

    /// Forgets every count (a catalog change); counts being computed are not kept.
    func invalidate() {
        slots.withLockedValue { $0.removeAll() }
    }

    /// Waits until no refresh is under way (tests).
    func settle() async {
        let tasks = slots.withLockedValue { slots in
            slots.values.compactMap { slot -> Task<Facets, any Error>? in
                if case .refreshing(_, let task) = slot { return task }
                return nil
            }
        }
        for task in tasks { _ = try? await task.value }
        await Task.yield()
    }
}

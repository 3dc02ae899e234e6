import Foundation
import NIOConcurrencyHelpers

/// Facet counts cost a pass over the whole filtered set, which for the unfiltered catalog is
/// every listed product; the counts are kept for `ttl` per filter, and requests that miss at the
/// same moment share one computation, so a busy catalog counts each filter at most once per
/// period. Counts may therefore lag a change by up to `ttl` (5 s by default); items never do.
/// Bounded: past `capacity` entries the cache starts afresh.
final class FacetCache: Sendable {
    typealias Facets = (category: [ProductStore.FacetCount], county: [ProductStore.FacetCount], label: [ProductStore.FacetCount])

    private enum Slot {
        case ready(expires: ContinuousClock.Instant, facets: Facets)
        case pending(Task<Facets, any Error>)
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
        let task: Task<Facets, any Error> = slots.withLockedValue { slots in
            switch slots[key] {
            case .ready(let expires, let facets) where expires > instant:
                return Task { facets }
            case .pending(let task):
                return task
            default:
                if slots.count >= capacity { slots.removeAll(keepingCapacity: true) }
                let task = Task { try await compute() }
                slots[key] = .pending(task)
                return task
            }
        }
        do {
            let facets = try await task.value
            slots.withLockedValue { slots in
                if case .pending = slots[key] { slots[key] = .ready(expires: instant + ttl, facets: facets) }
            }
            return facets
        } catch {
            slots.withLockedValue { slots in
                if case .pending = slots[key] { slots[key] = nil }
            }
            throw error
        }
    }
}

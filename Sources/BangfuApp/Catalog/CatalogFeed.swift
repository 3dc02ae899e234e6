import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps this process's `CatalogIndex` equal to the committed `products` (issue 18). The index is
/// built from the database once, then follows the change feed (`catalog_changes`, written by
/// triggers in the transaction of every change, migration 22) by sequence number.
///
/// Every catalog read first calls `catchUp()`, which reads the feed past what was applied (one
/// indexed query, usually empty) and reloads the products it names; so a read reflects every
/// change committed before it began, by this process or any other on the same database, with no
/// waiting and no time-based staleness. A background pass (`CatalogFeedService`) also catches up
/// every second and prunes changes older than an hour.
///
/// On PostgreSQL sequence numbers are taken before commit, so a later number may commit first: a
/// number skipped while a higher one is seen is read again on every catch-up until it shows, or
/// for `missingPatience` (then its transaction is taken as rolled back). Each product remembers the
/// sequence number its row was read after, so two catch-ups racing cannot put an older row back.
final class CatalogFeed: Sendable {
    /// The names facets show.
    struct Names: Sendable {
        var categories: [String: String] = [:]
        var counties: [String: String] = [:]
    }

    private struct State {
        var index = CatalogIndex()
        var names = Names()
        var applied: Int64 = 0
        /// Sequence numbers skipped, and when each was first missed.
        var missing: [Int64: Date] = [:]
        /// For each product changed since the build, the change its indexed row was read after.
        var rowSeq: [String: Int64] = [:]
        var build: Task<Void, any Error>?
        var built = false
    }

    private let database: any Database
    private let store: ProductStore
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    static let missingPatience: TimeInterval = 60
    static let retention: TimeInterval = 3600
    private static let chunk = 1000

    init(database: any Database, store: ProductStore, logger: Logger = Logger(label: "bangfu")) {
        self.database = database
        self.store = store
        self.logger = logger
    }

    /// Reads the index (with the names its facets show); call `catchUp()` first. The body reads a
    /// snapshot outside the lock, so readers run in parallel; a change applied meanwhile copies
    /// what it changes (the arrays are copy-on-write) and shows to the next read.
    func read<T>(_ body: (CatalogIndex, Names) throws -> T) rethrows -> T {
        let (index, names) = state.withLockedValue { ($0.index, $0.names) }
        return try body(index, names)
    }

    /// Whether a build has finished.
    var isBuilt: Bool { state.withLockedValue { $0.built } }

    /// Builds the index if it has not been, showing `progress` (start-up).
    func prepare(progress: Progress = .silent) async throws {
        let task = state.withLockedValue { state -> Task<Void, any Error> in
            if let build = state.build { return build }
            let build = Task { try await self.rebuild(progress: progress) }
            state.build = build
            return build
        }
        do {
            try await task.value
        } catch {
            state.withLockedValue { if $0.build == task { $0.build = nil } }
            throw error
        }
    }

    /// Applies every change committed before the call.
    func catchUp() async throws {
        try await prepare()
        while true {
            let (applied, missing) = state.withLockedValue { ($0.applied, Array($0.missing.keys.prefix(Self.chunk))) }
            let store = self.store
            let (changes, prunedThrough) = try await database.read { db in
                try await store.catalogChanges(after: applied, missing: missing, limit: Self.chunk, in: db)
            }
            if prunedThrough > applied {
                // Changes this process never read were pruned: only a fresh build is exact.
                logger.notice("catalog index fell behind the pruned change feed; rebuilding")
                try await rebuild(progress: .silent)
                continue
            }
            try await apply(changes)
            if changes.count < Self.chunk { return }
        }
    }

    /// Deletes changes older than `retention` (the background pass).
    func prune(now: Date = Date()) async throws {
        let store = self.store, before = now.addingTimeInterval(-Self.retention).millis
        try await database.write { db in try await store.pruneCatalogChanges(before: before, in: db) }
    }

    private func apply(_ changes: [ProductStore.CatalogChange]) async throws {
        let store = self.store
        var latest: [String: Int64] = [:]
        for change in changes where change.kind == "product" { latest[change.key] = max(latest[change.key] ?? 0, change.seq) }
        let ids = Array(latest.keys)
        var rows: [String: IndexedProduct] = [:]
        for start in stride(from: 0, to: ids.count, by: 500) {
            let part = Array(ids[start..<min(start + 500, ids.count)])
            for row in try await database.read({ db in try await store.indexed(ids: part, in: db) }) { rows[row.id] = row }
        }
        let names = changes.contains { $0.kind == "names" } ? try await loadNames() : nil
        let now = Date()
        state.withLockedValue { state in
            for (id, seq) in latest where (state.rowSeq[id] ?? 0) <= seq {
                state.rowSeq[id] = seq
                if let row = rows[id] { state.index.upsert(row) } else { state.index.remove(id: id) }
            }
            if let names { state.names = names }
            let seen = Set(changes.map(\.seq))
            for seq in seen { state.missing[seq] = nil }
            if let top = changes.last?.seq, top > state.applied {
                // Numbers skipped below the highest seen may belong to transactions still open.
                if top - state.applied <= 100_000 {
                    for seq in (state.applied + 1)..<top where !seen.contains(seq) { state.missing[seq] = now }
                }
                state.applied = top
            }
            state.missing = state.missing.filter { now.timeIntervalSince($0.value) < Self.missingPatience }
        }
    }

    private func loadNames() async throws -> Names {
        let store = self.store
        let (categories, counties) = try await database.read { db in try await store.facetNames(in: db) }
        return Names(categories: categories, counties: counties)
    }

    /// Reads every product afresh into a new index and swaps it in.
    private func rebuild(progress: Progress) async throws {
        let store = self.store
        let window: Int64 = 1000
        // The feed's head before the products: a change after it is caught up next; one below it
        // whose transaction is still open is read again while it is missing.
        let (head, present) = try await database.read { db in try await store.catalogFeedHead(window: window, in: db) }
        let total = try await database.read { db in try await store.productCount(in: db) }
        var index = CatalogIndex()
        var last = ""
        progress.report("catalog index", 0, total)
        while true {
            let after = last
            let rows = try await database.read { db in try await store.indexed(after: after, limit: 5000, in: db) }
            for row in rows { index.upsert(row) }
            progress.report("catalog index", index.count, max(total, index.count))
            guard let next = rows.last?.id, rows.count == 5000 else { break }
            last = next
        }
        let names = try await loadNames()
        let now = Date()
        var missing: [Int64: Date] = [:]
        for seq in max(1, head - window + 1)...max(1, head) where seq <= head && !present.contains(seq) { missing[seq] = now }
        let built = index
        state.withLockedValue { state in
            state.index = built
            state.names = names
            state.applied = head
            state.missing = missing
            state.rowSeq = [:]
            state.built = true
        }
        logger.info("built the catalog index", metadata: ["products": "\(built.count)", "feed": "\(head)"])
    }
}

/// Catches the index up every second, so a process nobody reads from stays near the feed's head
/// (reads catch up themselves), and prunes changes older than `CatalogFeed.retention` every minute.
struct CatalogFeedService: Service {
    let feed: CatalogFeed
    let logger: Logger

    func run() async throws {
        var passes = 0
        while await pauseUnlessShuttingDown(for: .seconds(1)) {
            // Start-up builds the index once migrations have run; until then there is no feed.
            guard feed.isBuilt else { continue }
            do {
                try await feed.catchUp()
                passes += 1
                if passes % 60 == 1 { try await feed.prune() }
            } catch {
                logger.error("catalog feed failed", metadata: ["error": .string(OperatorError.describing(error).message)])
            }
        }
    }
}

import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Keeps this process's `CatalogIndex` equal to the committed `products` (issue 18). The index is
/// built from the database once, then follows the change feed (`catalog_changes`, written by
/// triggers in the transaction of every change, migration 22) by sequence number.
///
/// A catalog read calls `catchUp()`, which reads the feed past what was applied (one indexed
/// query, usually empty) and reloads the products it names; so a read reflects every change
/// committed before it began, by this process or any other on the same database, with no waiting
/// and no time-based staleness. On SQLite a page may instead answer first and check afterwards
/// that the feed's head, read with its rows, is what the index had applied (`covers`), catching
/// up only when it is not. A background pass (`CatalogFeedService`) also catches up every second,
/// sweeps lapsed certificates out of the index (`sweepLapsed`) and prunes changes older than an
/// hour.
///
/// On PostgreSQL sequence numbers are taken before commit, so a later number may commit first. A
/// number skipped while a higher one is seen is read again on every catch-up until it shows, or
/// until every transaction that was running when it was first missed has ended (the snapshot's
/// `xmin` passed the `xmax` noted then): then its transaction rolled back. SQLite's single writer
/// commits numbers in order, so it never skips one.
///
/// One catch-up runs at a time (rows read later are never overwritten by rows read earlier):
/// readers arriving while one runs share the next, which starts after it, so each read still sees
/// every change committed before it arrived.
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
        /// Sequence numbers skipped, each with the snapshot's `xmax` when it was first missed.
        var missing: [Int64: Int64] = [:]
        var build: Task<Void, any Error>?
        var built = false
        /// Counts the changes to `index` (applied batches, builds, sweeps), so a sweep made on a
        /// copy outside the lock goes in only over the index it was made from.
        var version = 0
        /// When the last sweep went in (milliseconds), or the first call asked (`sweepLapsed`).
        var lastSweep: Int64?
    }

    /// The catch-up running and the one queued behind it.
    private struct Flight {
        var current: Task<Void, any Error>?
        var next: Task<Void, any Error>?
    }

    private let database: any Database
    private let store: ProductStore
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let flight = NIOLockedValueBox(Flight())
    static let retention: TimeInterval = 3600
    private static let chunk = 1000
    /// Skipped numbers looked for at most; past that the index is rebuilt.
    private static let maxMissing = 10_000

    /// How a build reads the products: `size` a chunk, and `afterChunk` awaited once each chunk is
    /// in the index (with the count so far) while the next is being read. Tests write there.
    struct BuildPlan: Sendable {
        var size = 5000
        var afterChunk: (@Sendable (Int) async throws -> Void)?
    }
    private let plan: BuildPlan
    /// Where each applied batch's time and each sweep's count go (`/metrics`), if anywhere.
    private let metrics: HTTPMetrics?

    init(
        database: any Database, store: ProductStore, logger: Logger = Logger(label: "bangfu"), plan: BuildPlan = BuildPlan(),
        metrics: HTTPMetrics? = nil
    ) {
        self.database = database
        self.store = store
        self.logger = logger
        self.plan = plan
        self.metrics = metrics
    }

    /// Reads the index (with the names its facets show); call `catchUp()` first, or ask through
    /// `current`, which checks the feed's head with the rows it reads. The body reads a snapshot outside the lock, so
    /// readers run in parallel; a change applied meanwhile copies what it changes (the arrays are
    /// copy-on-write) and shows to the next read.
    func read<T>(_ body: (CatalogIndex, Names) throws -> T) rethrows -> T {
        try readWithPosition { index, names, _ in try body(index, names) }
    }

    /// How far the index a read saw had followed the feed.
    struct Position: Sendable, Equatable {
        var applied: Int64
        /// No number below `applied` is missing (always so on SQLite).
        var complete: Bool

        /// Whether that index had every change of a snapshot whose feed head was `head`: the
        /// head is the last number written or pruned, so nothing past `applied` was committed.
        func covers(feedHead head: Int64) -> Bool { complete && applied == head }
    }

    /// `read`, also answering how far that index had followed the feed, which `current` checks
    /// against the feed's head read with the rows (`ProductStore.productsWithFeedHead`, `covers`).
    private func readWithPosition<T>(_ body: (CatalogIndex, Names, Position) throws -> T) rethrows -> T {
        let (index, names, position) = state.withLockedValue {
            ($0.index, $0.names, Position(applied: $0.applied, complete: $0.missing.isEmpty))
        }
        return try body(index, names, position)
    }

    /// Reads that `covers` found current, each a catch-up query saved (tests read it).
    private let verified = NIOLockedValueBox(0)
    var verifiedReads: Int { verified.withLockedValue { $0 } }

    /// Whether the index a read saw at `position` had every change of a snapshot whose feed head
    /// was `head` (counted in `verifiedReads`); if not, the read catches up and answers again.
    private func covers(_ position: Position, feedHead head: Int64) -> Bool {
        guard position.covers(feedHead: head) else { return false }
        verified.withLockedValue { $0 += 1 }
        return true
    }

    /// What a read of the index gives `rows`, which reads the database rows the answer names.
    enum Pass {
        /// The index has caught up first: read the rows alone.
        case caughtUp
        /// The index answered as it stood: read the rows with the feed's head, from one snapshot.
        case verifying
    }

    /// An answer of the index, and the rows it names, with every change committed before those
    /// rows were read in the answer (issue 18: reads are current).
    ///
    /// Where the store reads the feed's head with the rows (`ProductStore.readsFeedHeadWithRows`:
    /// SQLite) the index answers as it stands (`Pass.verifying`) and `rows` gives the head it read
    /// in the same statement: when that head is what the index had applied, no change is missing,
    /// and the catch-up's query is saved. Otherwise (a change, a rebuild, a name the index does
    /// not know yet: `ask` answers nil while verifying), and always on PostgreSQL, whose sequence
    /// numbers can commit out of order so a head proves nothing, the index catches up and `ask`
    /// answers again (`Pass.caughtUp`). At most two passes.
    func current<Answer, Rows>(
        _ ask: (CatalogIndex, Names, Pass) throws -> Answer?,
        rows: (Answer, Pass) async throws -> (rows: Rows, feedHead: Int64?)
    ) async throws -> (answer: Answer, rows: Rows) {
        try await prepare()
        var pass = ProductStore.readsFeedHeadWithRows(from: database) ? Pass.verifying : .caughtUp
        while true {
            if pass == .caughtUp { try await catchUp() }
            let asked = try readWithPosition { index, names, position in
                try ask(index, names, pass).map { (answer: $0, position: position) }
            }
            guard let asked else {
                guard pass == .verifying else { throw CatalogFeedUnanswered() }
                pass = .caughtUp
                continue
            }
            let read = try await rows(asked.answer, pass)
            if pass == .caughtUp { return (asked.answer, read.rows) }
            if let head = read.feedHead, covers(asked.position, feedHead: head) { return (asked.answer, read.rows) }
            pass = .caughtUp
        }
    }

    /// Whether a build has finished.
    var isBuilt: Bool { state.withLockedValue { $0.built } }

    /// Builds the index if it has not been, showing `progress` (start-up).
    func prepare(progress: Progress = .silent) async throws {
        try await build(progress: progress, again: false)
    }

    /// One build at a time: callers that arrive while one runs wait for it. With `again`, a
    /// finished build does not count (the feed was pruned past what this index applied).
    private func build(progress: Progress, again: Bool) async throws {
        let task = state.withLockedValue { state -> Task<Void, any Error> in
            if let build = state.build, !(again && state.built) { return build }
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
        let task = flight.withLockedValue { flight -> Task<Void, any Error> in
            if let next = flight.next { return next }
            guard let current = flight.current else {
                let task = Task { try await self.advance() }
                flight.current = task
                return task
            }
            let next = Task {
                _ = await current.result
                // This task is `next` until now (nobody replaces a queued catch-up): it runs.
                self.flight.withLockedValue { flight in
                    flight.current = flight.next
                    flight.next = nil
                }
                try await self.advance()
            }
            flight.next = next
            return next
        }
        defer { flight.withLockedValue { if $0.current == task { $0.current = nil } } }
        try await task.value
    }

    /// Reads the feed to its end and applies it (one at a time: `catchUp`).
    private func advance() async throws {
        while true {
            let (applied, missing) = state.withLockedValue { ($0.applied, Array($0.missing.keys)) }
            let store = self.store
            let read = try await database.read { db in
                try await store.catalogChanges(after: applied, missing: missing, limit: Self.chunk, in: db)
            }
            if read.prunedThrough > applied || missing.count > Self.maxMissing {
                // Changes this process never read are gone: only a fresh build is exact.
                logger.notice("catalog index fell behind the change feed; rebuilding")
                try await build(progress: .silent, again: true)
                continue
            }
            try await apply(read)
            if read.changes.count < Self.chunk { return }
        }
    }

    /// Takes the products whose certificate lapsed by `now` out of the index's candidates
    /// (`CatalogIndex.sweepLapsed`; asked by the background pass each second), answering how
    /// many. Reads hide them either way; this keeps each read from walking them all again. A
    /// sweep passes over every order, so it waits until `sweepCount` have lapsed or `sweepAge`
    /// has passed since the last sweep (`sweepDue`): a read walks at most `sweepCount` - 1
    /// lapsed certificates, or those of the last minute.
    ///
    /// The sweep copies what it changes (readers hold the index) outside the lock. If a batch of
    /// changes went in meanwhile it tries again on a fresh copy, and the last of `sweepTries`
    /// sweeps under the lock (one pass over each order, as a bulk batch does there).
    @discardableResult
    func sweepLapsed(now: Date) -> Int {
        let now = now.millis
        for tries in 1...Self.sweepTries {
            let taken = state.withLockedValue { state -> (index: CatalogIndex, version: Int, last: Int64)? in
                guard state.built else { return nil }
                state.lastSweep = state.lastSweep ?? now
                return (state.index, state.version, state.lastSweep ?? now)
            }
            guard let taken, Self.sweepDue(lapsed: taken.index.lapsed(now: now).count, now: now, lastSweep: taken.last) else {
                return 0
            }
            let locked = tries == Self.sweepTries
            var index = taken.index
            let swept = locked ? 0 : index.sweepLapsed(now: now)
            let done = state.withLockedValue { state -> Int? in
                var count = swept
                if locked {
                    count = state.index.sweepLapsed(now: now)
                } else {
                    guard state.version == taken.version else { return nil }
                    state.index = index
                }
                state.version += 1
                state.lastSweep = now
                return count
            }
            if let done {
                if done > 0 { metrics?.recordCatalogSwept(done) }
                return done
            }
        }
        return 0
    }

    static let sweepCount = 64
    static let sweepAge: Int64 = 60_000
    static let sweepTries = 3

    /// Whether `lapsed` certificates call for a sweep `now`, the last having gone in at `lastSweep`.
    static func sweepDue(lapsed: Int, now: Int64, lastSweep: Int64) -> Bool {
        lapsed >= sweepCount || (lapsed > 0 && lastSweep <= now - sweepAge)
    }

    /// Deletes changes older than `retention` (the background pass).
    func prune(now: Date = Date()) async throws {
        let store = self.store, before = now.addingTimeInterval(-Self.retention).millis
        try await database.write { db in try await store.pruneCatalogChanges(before: before, in: db) }
    }

    private func apply(_ read: ProductStore.FeedRead) async throws {
        let store = self.store, changes = read.changes
        let ids = Array(Set(changes.filter { $0.kind == "product" }.map(\.key)))
        var rows: [String: IndexedProduct] = [:]
        for start in stride(from: 0, to: ids.count, by: 500) {
            let part = Array(ids[start..<min(start + 500, ids.count)])
            for row in try await database.read({ db in try await store.indexed(ids: part, in: db) }) { rows[row.id] = row }
        }
        let names = changes.contains { $0.kind == "names" } ? try await loadNames() : nil
        var held: Duration?
        defer { if let held { metrics?.recordCatalogApply(held) } }
        state.withLockedValue { state in
            if !ids.isEmpty {
                let started = ContinuousClock.now
                state.index.apply(ids.map { ($0, rows[$0]) })
                state.version += 1
                held = ContinuousClock.now - started
            }
            if let names { state.names = names }
            let seen = Set(changes.map(\.seq))
            for seq in seen { state.missing[seq] = nil }
            if let top = changes.last?.seq, top > state.applied {
                // Numbers skipped below the highest seen may belong to transactions still open.
                if let xmax = read.snapshot?.xmax, top - state.applied <= Int64(Self.maxMissing) {
                    for seq in (state.applied + 1)..<top where !seen.contains(seq) { state.missing[seq] = xmax }
                }
                state.applied = top
            }
            // Every transaction running when a number was missed has ended: it rolled back.
            if let xmin = read.snapshot?.xmin { state.missing = state.missing.filter { $0.value > xmin } }
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
        let window = Int64(Self.maxMissing)
        // The feed's head before the products: a change after it is caught up next; one below it
        // whose transaction is still open is read again while it is missing.
        let head = try await database.read { db in try await store.catalogFeedHead(window: window, in: db) }
        let total = try await database.read { db in try await store.productCount(in: db) }
        var index = CatalogIndex()
        index.deferOrders()
        progress.report("catalog index", 0, total)
        // The next chunk is read and decoded (on another core) while this one goes into the index.
        let database = self.database, size = max(1, plan.size)
        typealias Chunk = (products: [IndexedProduct], next: ProductStore.IndexCursor)
        func read(after: ProductStore.IndexCursor) -> Task<Chunk, any Error> {
            Task { try await store.indexed(after: after, limit: size, from: database) }
        }
        var nextChunk: Task<Chunk, any Error>? = read(after: .start)
        // A build that fails (a row it cannot decode) stops the read already under way.
        defer { nextChunk?.cancel() }
        while let reading = nextChunk {
            let (rows, next) = try await reading.value
            nextChunk = rows.count == size ? read(after: next) : nil
            for row in rows { index.upsertBuilding(row) }
            index.flushPostings()
            progress.report("catalog index", index.count, max(total, index.count))
            try await plan.afterChunk?(index.count)
        }
        index.sortOrders()
        let names = try await loadNames()
        var missing: [Int64: Int64] = [:]
        if let xmax = head.snapshot?.xmax {
            for seq in max(1, head.head - window + 1)...max(1, head.head) where seq <= head.head && !head.present.contains(seq) {
                missing[seq] = xmax
            }
        }
        let built = index
        state.withLockedValue { state in
            state.index = built
            state.version += 1
            state.names = names
            state.applied = head.head
            state.missing = missing
            state.built = true
        }
        logger.info("built the catalog index", metadata: ["products": "\(built.count)", "feed": "\(head.head)"])
    }
}

/// Catches the index up every second, so a process nobody reads from stays near the feed's head
/// (reads catch up, or check the feed's head, themselves), sweeps the certificates lapsed by then
/// out of the index's candidates when due (`CatalogFeed.sweepLapsed`), and prunes changes older than `CatalogFeed.retention` every
/// minute.
struct CatalogFeedService: Service {
    let feed: CatalogFeed
    let clock: AppClock
    let logger: Logger

    func run() async throws {
        var passes = 0
        while await pauseUnlessShuttingDown(for: .seconds(1)) {
            // Start-up builds the index once migrations have run; until then there is no feed.
            guard feed.isBuilt else { continue }
            // The sweep reads no database: it runs whether or not the catch-up does.
            feed.sweepLapsed(now: clock.now)
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

/// `CatalogFeed.current`'s question went unanswered by an index that had caught up: a question
/// may decline only an index that answered as it stood.
struct CatalogFeedUnanswered: Error, CustomStringConvertible {
    var description: String { "the catalog index declined to answer after catching up" }
}

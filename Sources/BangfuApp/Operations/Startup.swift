import Foundation
import Logging

/// What every start runs before serving (idempotent): migrations, the reference data of
/// `Catalog/`, the purge of old idempotency keys, the certificate signing key, the planner's
/// statistics.
struct Startup: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// Applies migrations and loads `Catalog/` (idempotent; run at every start).
    func prepare(logger: Logger) async throws {
        let applied = try await Migrations.apply(to: database, now: clock.now)
        if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
        // A bulk load that died part way left indexes set aside.
        let rebuilt = try await DeferredIndexes(engine: database.engine).restore(in: database)
        if rebuilt > 0 { logger.notice("built the indexes a bulk load had set aside", metadata: ["indexes": "\(rebuilt)"]) }
        let data = try ReferenceData.load(FileSource.catalogFiles(configuration))
        let reference = self.reference
        let added = try await database.write { db in try await reference.load(data, in: db) }
        if added > 0 { logger.info("loaded reference data", metadata: ["rows": "\(added)"]) }
        // Idempotency keys are kept 7 days (API.md asks for at least 24 hours).
        let orders = self.orders, cutoff = clock.now.addingTimeInterval(-7 * 86400)
        try await database.write { db in try await orders.purgeKeys(before: cutoff, in: db) }
        // Scores of ratings that left the 365-day window while stopped (and after migration 20).
        try await Ratings(services).refreshDueScores()
        if let kid = try await signingKeys.prepare(now: clock.now) {
            logger.notice("created the certificate signing key", metadata: ["kid": .string(kid)])
        }
        try await optimize()
    }

    /// Refreshes the planner's statistics where it helps (SQLite's `PRAGMA optimize`; PostgreSQL's
    /// autovacuum does this by itself).
    func optimize() async throws {
        guard database.engine == .sqlite else { return }
        try await database.write { db in try await db.raw("PRAGMA optimize=0x10002").run() }
    }
}

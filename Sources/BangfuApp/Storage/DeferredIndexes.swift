import Foundation
import SQLKit

/// Secondary indexes set aside during a bulk load (`bangfu seed`) and built again after it: a
/// million random-keyed inserts into a dozen indexes cost far more than building each index once
/// from the loaded rows. Each index set aside is recorded (`deferred_indexes`, migration 23) in
/// the transaction that drops it, so a load that dies part way leaves the record, and the next
/// start builds the indexes again (`Startup.prepare`). Unique indexes (and so primary keys) are
/// never set aside: they are constraints, not only speed.
struct DeferredIndexes: Sendable {
    let engine: DatabaseEngine

    private struct Definition: RowModel {
        var name: String
        var definition: String
    }

    /// Drops the non-unique indexes of `tables` and records them; answers how many.
    func setAside(tables: [String], in db: any SQLDatabase) async throws -> Int {
        let query: SQLQueryString =
            engine == .postgres
            ? """
            SELECT indexname AS name, indexdef AS definition FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename IN (\(binds: tables)) AND indexdef NOT LIKE 'CREATE UNIQUE%'
            ORDER BY indexname
            """
            : """
            SELECT name, sql AS definition FROM sqlite_master
            WHERE type = 'index' AND tbl_name IN (\(binds: tables)) AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
            ORDER BY name
            """
        let indexes = try await db.raw(query).all().map { try $0.model(Definition.self) }
        for index in indexes {
            try await db.raw(
                "INSERT INTO deferred_indexes (name, definition) VALUES (\(bind: index.name), \(bind: index.definition))"
            ).run()
            try await db.raw("DROP INDEX \(ident: index.name)").run()
        }
        return indexes.count
    }

    /// Builds every recorded index again and forgets it, each in its own transaction (`write`).
    func restore(in database: any Database, progress: Progress = .silent) async throws -> Int {
        let pending = try await database.read { db in
            try await db.raw("SELECT name, definition FROM deferred_indexes ORDER BY name").all()
                .map { try $0.model(Definition.self) }
        }
        if !pending.isEmpty { progress.report("indexes", 0, pending.count) }
        for (built, index) in pending.enumerated() {
            defer { progress.report("indexes", built + 1, pending.count) }
            try await database.write { db in
                // Claimed first: a second process starting at the same time (PostgreSQL) waits on
                // the row, then finds it gone and builds nothing.
                let claimed = try await db.raw(
                    "DELETE FROM deferred_indexes WHERE name = \(bind: index.name) RETURNING name"
                ).first() != nil
                if claimed { try await db.raw(SQLQueryString(index.definition)).run() }
            }
        }
        return pending.count
    }
}

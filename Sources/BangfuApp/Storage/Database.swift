import Logging
import PostgresNIO
import SQLKit
import SQLiteNIO

/// The SQL engine behind a `Database`. Only DDL details, locking and PRAGMAs differ per engine;
/// stores are written once in SQLKit. One read goes around SQLKit: the catalog index's start-up
/// build on SQLite (`SQLiteDatabase.readRows`, `ProductStore.indexed(after:limit:from:)`), whose
/// million rows are decoded by position.
public enum DatabaseEngine: String, Sendable {
    case sqlite
    case postgres
}

/// The one way the stores reach SQL.
///
/// `read` runs statements outside any transaction (on SQLite: one of a few reader connections);
/// `write` runs its body inside one transaction that commits when the body returns and rolls back
/// when it throws. On SQLite every write transaction goes through a single writer connection, one
/// at a time, so that two transactions never interleave.
public protocol Database: Sendable {
    var engine: DatabaseEngine { get }
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Closes every connection; called once at shutdown.
    func close() async
}

extension Database {
    /// Answers true when a trivial query succeeds (used by `/readyz`).
    public func ping() async -> Bool {
        do {
            return try await read { db in
                try await db.raw("SELECT 1 AS one").first()?.decode(column: "one", as: Int64.self) == 1
            }
        } catch {
            return false
        }
    }
}

/// Opens the database a configuration names: a `postgres://` URL, or else the SQLite file in the
/// data directory.
public func openDatabase(url: String?, dataDirectory: String, durableCommits: Bool = true, logger base: Logger) async throws
    -> any Database
{
    // The drivers log each statement with its bound values at debug level, and those values hold
    // bank accounts and password hashes: their logger never goes below info.
    var logger = base
    logger.logLevel = max(base.logLevel, .info)
    if let url, url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
        return try PostgresDatabase(url: url, logger: logger)
    }
    let path: String
    if let url, url.hasPrefix("sqlite://") {
        path = String(url.dropFirst("sqlite://".count))
    } else if let url, !url.isEmpty {
        throw ConfigurationError("the database URL is neither postgres://USER:PASSWORD@HOST:5432/DATABASE nor sqlite://PATH: fix --database (BANGFU_DATABASE)")
    } else {
        path = dataDirectory + "/bangfu.sqlite"
    }
    return try await SQLiteDatabase.open(path: path, durableCommits: durableCommits, logger: logger)
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// True when `error` is a unique-constraint violation, from either engine: the backstop for
/// check-then-insert races between processes on PostgreSQL.
/// True when a unique violation names `column` (PostgreSQL's constraint name, SQLite's message).
func isUniqueViolation(_ error: any Error, on column: String) -> Bool {
    guard isUniqueViolation(error) else { return false }
    if let error = error as? PSQLError { return error.serverInfo?[.constraintName]?.contains(column) ?? false }
    if let error = error as? SQLiteError { return error.message.contains(column) }
    return false
}

func isUniqueViolation(_ error: any Error) -> Bool {
    if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
    if let error = error as? SQLiteError { return error.reason == .constraintUniqueFailed || error.reason == .constraint }
    return false
}

/// The write transaction of both engines: `body` between `begin` and `COMMIT`, rolled back when
/// it throws (SQLite begins `IMMEDIATE` to take its lock up front). Only the engines call it, on
/// a connection that holds no transaction; it is not a method of `SQLDatabase` so that a store,
/// which is handed a transaction's `db`, cannot nest one by mistake.
enum SQLTransaction {
    static func run<T: Sendable>(
        on connection: any SQLDatabase, begin: SQLQueryString = "BEGIN",
        _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let afterCommit = AfterCommit()
        try await connection.raw(begin).run()
        do {
            let result = try await AfterCommit.$current.withValue(afterCommit) { try await body(connection) }
            try await connection.raw("COMMIT").run()
            afterCommit.run()
            return result
        } catch {
            try? await connection.raw("ROLLBACK").run()
            throw error
        }
    }
}

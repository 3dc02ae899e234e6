import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// SQLite in WAL mode: one writer connection behind an actor, so write transactions never
/// interleave (sqlite-nio serialises statements, not transactions), plus a few readers.
public final class SQLiteDatabase: Database {
    public var engine: DatabaseEngine { .sqlite }
    private let writer: SQLiteWriter
    private let readers: [SQLiteConnection]
    private let next = NIOLockedValueBox(0)
    private let logger: Logger
    private let pools: [NIOThreadPool]

    private init(writer: SQLiteWriter, readers: [SQLiteConnection], pools: [NIOThreadPool], logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.pools = pools
        self.logger = logger
    }

    /// The writer's page cache, as `PRAGMA cache_size` takes it (negative: KiB): 32 MiB.
    static let writerCacheKiB = -32768

    /// WAL pages between automatic checkpoints (SQLite's default is 1,000; 10,000 is 40 MiB of
    /// WAL). A page many commits rewrite (a product's stock, a plan's sums, the end of an index)
    /// is copied into the database once per checkpoint: with orders arriving, the server wrote
    /// 57–67 KiB per order instead of 66–85, and placed 704–776 orders/s instead of 618–639
    /// (Benchmarks/RESULTS.md).
    static let checkpointPages = 10_000

    /// What the WAL file is cut back to after a checkpoint empties it: 64 MiB, above the 40 MiB
    /// of `checkpointPages`. A long read holds checkpoints off and the WAL grows past that (a
    /// backup, a bulk import); without a limit SQLite keeps the file at its largest for good.
    static let walLimitBytes = 64 << 20

    /// `durableCommits`: the writer runs `synchronous=FULL`, so a commit is on disk (the WAL
    /// fsynced) before it is acknowledged and survives a power loss; with `NORMAL` a killed
    /// process loses nothing but a power loss may lose the last commits. Readers never commit.

    public static func open(path: String, readerCount: Int = 3, durableCommits: Bool = true, logger: Logger) async throws
        -> SQLiteDatabase
    {
        // Created owner-only: the database holds password hashes and bank details. SQLite gives
        // its -wal and -shm files the same permissions.
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        // The writer has a thread of its own: its statements never queue behind readers' work, and
        // the write transaction (the one serial section of the server) is never kept waiting.
        let writerPool = NIOThreadPool(numberOfThreads: 1)
        let readerPool = NIOThreadPool(numberOfThreads: max(1, readerCount))
        writerPool.start()
        readerPool.start()
        // A file that is no database (a damaged backup) fails part way: whatever was opened is
        // closed again before the error goes on.
        var opened: [SQLiteConnection] = []
        let writerConnection: SQLiteConnection
        var readers: [SQLiteConnection] = []
        do {
            writerConnection = try await openConnection(path: path, pool: writerPool, logger: logger, opened: &opened)
            _ = try await writerConnection.query(durableCommits ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
            // The writer touches the indexes of every table it writes, many at random places (by
            // organization, merchant, product, idempotency key): 32 MiB of page cache instead of 2
            // keeps them in memory rather than re-read through the kernel (a third of a bulk
            // load's time went to those reads).
            _ = try await writerConnection.query("PRAGMA cache_size=\(Self.writerCacheKiB)")
            // WAL is a property of the file; set it once from the writer before the readers open.
            _ = try await writerConnection.query("PRAGMA journal_mode=WAL")
            _ = try await writerConnection.query("PRAGMA wal_autocheckpoint=\(Self.checkpointPages)")
            _ = try await writerConnection.query("PRAGMA journal_size_limit=\(Self.walLimitBytes)")
            for _ in 0..<readerCount {
                readers.append(try await openConnection(path: path, pool: readerPool, logger: logger, opened: &opened))
            }
        } catch {
            for connection in opened { try? await connection.close() }
            try? await writerPool.shutdownGracefully()
            try? await readerPool.shutdownGracefully()
            throw error
        }
        return SQLiteDatabase(
            writer: SQLiteWriter(connection: writerConnection), readers: readers, pools: [writerPool, readerPool],
            logger: logger)
    }

    private static func openConnection(
        path: String, pool: NIOThreadPool, logger: Logger, opened: inout [SQLiteConnection]
    ) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: pool, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        opened.append(connection)
        for pragma in ["PRAGMA busy_timeout=5000", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"] {
            _ = try await connection.query(pragma)
        }
        return connection
    }

    /// The reader connections in turn.
    private func nextReader() -> SQLiteConnection {
        let index = next.withLockedValue { value in
            value = (value + 1) % readers.count
            return value
        }
        return readers[index]
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(nextReader().sql())
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writer.transaction(body)
    }

    /// One statement on a reader, its rows as sqlite-nio gives them: for reads where decoding each
    /// column by name (SQLKit) is a large part of the cost, decoded by position instead
    /// (`SQLiteColumns`): the catalog index's build, `ProductStore.indexed(after:limit:from:)`, and
    /// a catalog page's rows, `ProductStore.products(ids:from:)`.
    func readRows(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        try await nextReader().query(sql, binds)
    }

    /// A consistent copy of the live database, taken while the server runs (`VACUUM INTO`).
    public func backup(to path: String) async throws {
        try await read { db in
            try await db.raw("VACUUM INTO \(bind: path)").run()
        }
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` on the writer: the WAL's pages go into the database
    /// file and the WAL is emptied (before the file is replaced by a restore).
    func checkpoint() async throws {
        try await writer.checkpoint()
    }

    public func close() async {
        await writer.close()
        for reader in readers {
            try? await reader.close()
        }
        for pool in pools {
            try? await pool.shutdownGracefully()
        }
    }
}

/// Owns the writer connection. An actor alone does not serialise transactions (it is reentrant at
/// every `await`), so `transaction` also takes a FIFO turn before `BEGIN` and gives it up after
/// `COMMIT` or `ROLLBACK`.
actor SQLiteWriter {
    private let connection: SQLiteConnection
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await SQLTransaction.run(on: connection.sql(), begin: "BEGIN IMMEDIATE", body)
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    /// Outside any transaction, in the writer's turn.
    func checkpoint() async throws {
        await acquire()
        defer { release() }
        _ = try await connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    func close() async {
        await acquire()
        try? await connection.close()
    }
}

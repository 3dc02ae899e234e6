import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus
import SQLKit
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Scheduled SQLite backups (`--backup-dir`, `--backup-every`, `--backup-keep`).
public struct BackupSettings: Sendable, Equatable {
    public var directory: String
    public var every: Duration
    public var keep: Int

    public init(directory: String, every: Duration, keep: Int) {
        self.directory = directory
        self.every = every
        self.keep = keep
    }

    /// `30m`, `6h`, `1d`, or seconds: the interval of `--backup-every`, at least a minute.
    public static func interval(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (digits, unit) = text.last.flatMap { units[$0] }.map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard let count = Int64(digits), count > 0 else { return nil }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, seconds >= 60, seconds <= 366 * 86400 else { return nil }
        return .seconds(seconds)
    }
}

/// Verifies a copy of the SQLite database before it is trusted (a backup just taken, or one about
/// to be restored): `PRAGMA integrity_check` and every invariant `bangfu check` checks.
public enum BackupVerification {
    public static func problems(of path: String, logger: Logger) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return ["\(path) does not exist"] }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bangfu-verify-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Checked on a copy, so that verifying never writes to the backup itself (WAL files).
        let copy = directory + "/bangfu.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        var quiet = logger
        quiet.logLevel = .warning
        let database = try await openDatabase(url: "sqlite://" + copy, dataDirectory: directory, durableCommits: false, logger: quiet)
        do {
            let integrity = try await database.read { db in
                try await db.raw("PRAGMA integrity_check").all().map { try $0.decode(column: "integrity_check", as: String.self) }
            }
            var configuration = AppConfiguration()
            configuration.dataDirectory = directory
            configuration.logLevel = .warning
            let services = AppServices(configuration: configuration, database: database, registry: PrometheusCollectorRegistry())
            var problems = integrity == ["ok"] ? [] : integrity.map { "integrity: \($0)" }
            if problems.isEmpty { problems = try await services.checkInvariants() }
            await database.close()
            return problems
        } catch {
            await database.close()
            throw error
        }
    }
}

/// Takes a verified SQLite backup every `every` while the server runs, keeping the newest `keep`
/// (`bangfu-YYYYMMDD-HHMMSS.sqlite`, mode 0600). A copy that fails verification is removed and
/// logged as an error; older good copies stay.
struct BackupService: Service {
    let services: AppServices
    let settings: BackupSettings
    let logger: Logger

    func run() async throws {
        // The first copy is due an interval after the newest one there is (at once when there is
        // none), so a server restarted more often than the interval still takes its backups.
        var wait = dueIn()
        while await pauseUnlessShuttingDown(for: wait) {
            wait = settings.every
            do {
                let path = try await takeBackup()
                logger.notice("backup written and verified", metadata: ["path": .string(path)])
            } catch {
                logger.error("backup failed", metadata: ["error": .string(OperatorError.describing(error).message)])
            }
        }
    }

    /// How long until the next backup is due: an interval after the newest existing one.
    func dueIn() -> Duration {
        let newest = (try? Self.backups(in: settings.directory))?.last.flatMap { name in
            (try? FileManager.default.attributesOfItem(atPath: settings.directory + "/" + name))?[.modificationDate] as? Date
        }
        guard let newest else { return .seconds(5) }
        let age = max(0, Date().timeIntervalSince(newest))
        let every = Double(settings.every.components.seconds)
        return .seconds(max(5, Int64(every - age)))
    }

    /// One backup: written under a `.partial` name, verified, fsynced, then renamed to its final
    /// name (so a copy under a final name is always a verified one) and older ones pruned.
    /// Answers the copy's path.
    func takeBackup() async throws -> String {
        try FileManager.default.createDirectory(
            atPath: settings.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = settings.directory + "/bangfu-" + Self.stamp(services.clock.now) + ".sqlite"
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            try await services.backup(to: partial)
            let problems = try await BackupVerification.problems(of: partial, logger: logger)
            guard problems.isEmpty else {
                throw OperatorError(
                    "the backup \(path) did not verify: " + problems.prefix(3).joined(separator: "; "), exitCode: ExitCodes.dataError)
            }
            try fsyncFile(partial)
            guard rename(partial, path) == 0 else {
                throw OperatorError("cannot rename \(partial) to \(path)", exitCode: ExitCodes.ioError)
            }
            try fsyncFile(settings.directory)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        try prune()
        return path
    }

    /// The names of the backups in `directory`, oldest first (the names sort by time).
    static func backups(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter(isBackupName).sorted()
    }

    /// `bangfu-YYYYMMDD-HHMMSS.sqlite`, exactly: nothing else in the directory is ever pruned.
    static func isBackupName(_ name: String) -> Bool {
        let digits = Array(name.utf8)
        guard name.hasPrefix("bangfu-"), name.hasSuffix(".sqlite"), digits.count == 29 else { return false }
        let stamp = digits[7..<22]
        return stamp.enumerated().allSatisfy { index, byte in index == 8 ? byte == UInt8(ascii: "-") : (48...57).contains(byte) }
    }

    /// Removes all but the newest `keep` backups.
    func prune() throws {
        let names = try Self.backups(in: settings.directory)
        for name in names.dropLast(max(1, settings.keep)) {
            try? FileManager.default.removeItem(atPath: settings.directory + "/" + name)
        }
    }

    static func stamp(_ date: Date) -> String {
        let text = date.rfc3339  // YYYY-MM-DDTHH:MM:SSZ
        return text.filter { $0.isNumber || $0 == "T" }.replacingOccurrences(of: "T", with: "-")
    }
}

/// An exclusive lock on `DATA_DIR/bangfu.lock`, held by a serving process for its lifetime, so
/// that `bangfu restore` can tell that a server still holds the database.
public final class DataDirectoryLock: Sendable {
    private let descriptor: NIOLockedValueBox<Int32?>

    /// Takes the lock, or answers nil when another process holds it. `shared` lets several
    /// servers (and commands) run at once; `restore` asks for it alone.
    public init?(dataDirectory: String, exclusive: Bool) throws {
        let fd = open(dataDirectory + "/bangfu.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OperatorError("cannot create \(dataDirectory)/bangfu.lock: check the data directory's permissions", exitCode: ExitCodes.permission)
        }
        guard flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        descriptor = NIOLockedValueBox(fd)
    }

    /// The shared lock a server or command holds, or a one-line error while a restore runs.
    static func forServing(_ dataDirectory: String) throws -> DataDirectoryLock {
        guard let lock = try DataDirectoryLock(dataDirectory: dataDirectory, exclusive: false) else {
            throw OperatorError(
                "bangfu restore is replacing the database in \(dataDirectory): wait for it to finish",
                exitCode: ExitCodes.unavailable)
        }
        return lock
    }

    /// Gives the lock up (when the server has stopped); also done when the lock is freed.
    public func release() {
        descriptor.withLockedValue { fd in
            if let open = fd { close(open) }
            fd = nil
        }
    }

    deinit { release() }
}

extension AppServices {
    /// `bangfu restore --from FILE`: refuses while a server holds the data directory, verifies the
    /// copy, then puts it in place of the database (the old file kept beside it).
    public static func restore(from source: String, configuration: AppConfiguration, logger: Logger) async throws -> String {
        guard configuration.databaseURL == nil || configuration.databaseURL?.hasPrefix("sqlite://") == true else {
            throw OperatorError(
                "bangfu restore replaces the SQLite database; on PostgreSQL use pg_restore, then bangfu check",
                exitCode: ExitCodes.configuration)
        }
        try createDataDirectory(configuration.dataDirectory)
        guard let lock = try DataDirectoryLock(dataDirectory: configuration.dataDirectory, exclusive: true) else {
            throw OperatorError(
                "a Bangfu server holds \(configuration.dataDirectory): stop it before restoring", exitCode: ExitCodes.unavailable)
        }
        let target = configuration.databaseURL.map { String($0.dropFirst("sqlite://".count)) }
            ?? configuration.dataDirectory + "/bangfu.sqlite"
        let directory = (target as NSString).deletingLastPathComponent
        // The copy that will be installed is the one checked: copied next to the database first.
        let staged = target + ".restoring"
        try? FileManager.default.removeItem(atPath: staged)
        try FileManager.default.copyItem(atPath: source, toPath: staged)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: staged)
        let problems: [String]
        do {
            problems = try await BackupVerification.problems(of: staged, logger: logger)
        } catch {
            try? FileManager.default.removeItem(atPath: staged)
            throw OperatorError(
                "\(source) is not a sound backup (\(OperatorError.describing(error).message)): nothing was replaced",
                exitCode: ExitCodes.dataError)
        }
        guard problems.isEmpty else {
            try? FileManager.default.removeItem(atPath: staged)
            throw OperatorError(
                "\(source) is not a sound backup (" + problems.prefix(3).joined(separator: "; ") + "): nothing was replaced",
                exitCode: ExitCodes.dataError)
        }
        try fsyncFile(staged)
        var kept = ""
        if FileManager.default.fileExists(atPath: target) {
            // Fold the old WAL into its database, keep the old database under a name of its own
            // (a hard link: the live name never goes missing), then replace the live name in one
            // rename. A crash at any point leaves either the old database or the new one.
            try await checkpoint(target, logger: logger)
            kept = target + ".before-restore-" + BackupService.stamp(Date()) + "-" + String(UUID().uuidString.prefix(8))
            guard link(target, kept) == 0 else {
                throw OperatorError("cannot keep the old database as \(kept)", exitCode: ExitCodes.ioError)
            }
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
        guard rename(staged, target) == 0 else {
            throw OperatorError("cannot put \(staged) in place of \(target)", exitCode: ExitCodes.ioError)
        }
        try fsyncFile(directory)
        withExtendedLifetime(lock) {}
        return kept.isEmpty ? "restored \(source) to \(target)" : "restored \(source) to \(target) (the previous database is \(kept))"
    }

    /// Moves everything in the database's WAL into the database file and empties the WAL.
    private static func checkpoint(_ path: String, logger: Logger) async throws {
        var quiet = logger
        quiet.logLevel = .warning
        let database = try await SQLiteDatabase.open(path: path, readerCount: 1, durableCommits: true, logger: quiet)
        do {
            try await database.checkpoint()
            await database.close()
        } catch {
            await database.close()
            throw error
        }
    }
}

/// fsync(2) of a file or directory, so that a copy (or a rename in a directory) is on disk.
func fsyncFile(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw OperatorError("cannot open \(path) to sync it", exitCode: ExitCodes.ioError) }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw OperatorError("cannot sync \(path) to disk", exitCode: ExitCodes.ioError) }
}

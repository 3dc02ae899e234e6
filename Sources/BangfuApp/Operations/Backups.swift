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
        while !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.every) }
            } catch {
                return  // shutting down
            }
            if Task.isCancelled { return }
            do {
                let path = try await takeBackup()
                logger.notice("backup written and verified", metadata: ["path": .string(path)])
            } catch {
                logger.error("backup failed", metadata: ["error": .string(OperatorError.describing(error).message)])
            }
        }
    }

    /// One backup: copy, verify, prune. Answers the copy's path.
    func takeBackup() async throws -> String {
        try FileManager.default.createDirectory(
            atPath: settings.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = "bangfu-" + Self.stamp(services.clock.now) + ".sqlite"
        let path = settings.directory + "/" + name
        try await services.backup(to: path)
        let problems = try await BackupVerification.problems(of: path, logger: logger)
        guard problems.isEmpty else {
            try? FileManager.default.removeItem(atPath: path)
            throw OperatorError("the backup \(path) did not verify: " + problems.prefix(3).joined(separator: "; "), exitCode: ExitCodes.dataError)
        }
        try prune()
        return path
    }

    /// Removes all but the newest `keep` backups (by name: the names sort by time).
    func prune() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.directory)
            .filter { $0.hasPrefix("bangfu-") && $0.hasSuffix(".sqlite") }.sorted()
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
        let problems = try await BackupVerification.problems(of: source, logger: logger)
        guard problems.isEmpty else {
            throw OperatorError(
                "\(source) is not a sound backup (" + problems.prefix(3).joined(separator: "; ") + "): nothing was replaced",
                exitCode: ExitCodes.dataError)
        }
        let target = configuration.databaseURL.map { String($0.dropFirst("sqlite://".count)) }
            ?? configuration.dataDirectory + "/bangfu.sqlite"
        let staged = target + ".restoring"
        try? FileManager.default.removeItem(atPath: staged)
        try FileManager.default.copyItem(atPath: source, toPath: staged)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: staged)
        var kept = ""
        if FileManager.default.fileExists(atPath: target) {
            kept = target + ".before-restore-" + BackupService.stamp(Date())
            try FileManager.default.moveItem(atPath: target, toPath: kept)
        }
        for suffix in ["-wal", "-shm"] {
            if FileManager.default.fileExists(atPath: target + suffix) {
                try FileManager.default.moveItem(atPath: target + suffix, toPath: (kept.isEmpty ? target + ".old" : kept) + suffix)
            }
        }
        guard rename(staged, target) == 0 else {
            throw OperatorError("cannot put \(staged) in place of \(target)", exitCode: ExitCodes.ioError)
        }
        withExtendedLifetime(lock) {}
        return kept.isEmpty ? "restored \(source) to \(target)" : "restored \(source) to \(target) (the previous database is \(kept))"
    }
}

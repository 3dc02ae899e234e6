import Foundation

/// `bangfu backup` and the scheduled backups (`BackupService`): a consistent copy of the SQLite
/// database, also while the server runs.
struct DatabaseBackup: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// Writes the copy to `path` with mode 0600. SQLite only (PostgreSQL has pg_dump).
    func copy(to path: String) async throws {
        guard let sqlite = database as? SQLiteDatabase else {
            throw ConfigurationError("bangfu backup copies the SQLite database; on PostgreSQL use pg_dump")
        }
        try await sqlite.backup(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}

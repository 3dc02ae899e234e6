import Foundation

/// Whether this instance can serve (`/readyz`): the database answers and its migrations are current.
struct Readiness: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    enum State: String, Sendable {
        case ready
        case migrationsPending = "migrations pending"
        case databaseUnavailable = "database unavailable"
    }

    func check() async -> State {
        guard await database.ping() else { return .databaseUnavailable }
        return await Migrations.isCurrent(database) ? .ready : .migrationsPending
    }
}

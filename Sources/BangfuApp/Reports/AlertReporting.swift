import Foundation

/// The alerts of 动态跟踪 (API.md "Reports and alerts"): county officers see their own county,
/// merchants their own alerts, finance officers their region's organizations, managers their
/// subtree's, admins all.
struct AlertReporting: UseCase {
    let services: AppServices
    var settings: AlertSettings { services.configuration.alerts }

    init(_ services: AppServices) {
        self.services = services
    }

    /// At most `limit` alerts of `kinds` that `user` may see, oldest first by `since`; none for a
    /// merchant user without a merchant.
    func alerts(_ kinds: Set<AlertKind>, limit: Int, for user: Identity) async throws -> [Alert] {
        let now = clock.now
        let (merchants, alerts, settings) = (self.merchants, self.alerts, self.settings)
        return try await database.read { db -> [Alert] in
            let scope: AlertScope
            switch user.role {
            case .county: scope = .county(user.countyCode ?? "-")
            case .merchant:
                guard let merchant = try await merchants.merchant(ownerId: user.userId, in: db) else { return [] }
                scope = .merchant(merchant.id)
            case .finance: scope = .region(user.regionCode ?? "-")
            case .buyer:
                guard let membership = try await services.buyers.membership(userId: user.userId, in: db),
                    membership.role == .manager
                else { throw DomainError(.forbidden, code: "forbidden", detail: "only a unit's managers follow its alerts") }
                scope = .subtree(membership.organization.id)
            case .admin: scope = .all
            }
            return try await alerts.alerts(kinds, scope: scope, settings: settings, now: now, limit: limit, in: db)
        }
    }
}

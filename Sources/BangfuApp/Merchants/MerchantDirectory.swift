import Foundation
import SQLKit

/// A merchant as its public profile shows it, with the number of its products on sale.
struct MerchantProfile: Sendable {
    var merchant: Merchant
    var productCount: Int64
    /// Its ratings' averages over the last 365 days; nil without any.
    var rating: RatingDTO.Summary? = nil
}

/// Public merchant profiles and suspension (API.md "Merchant onboarding", last rows). Knows
/// nothing of HTTP.
struct MerchantDirectory: UseCase {
    let services: AppServices
    var store: MerchantStore { services.merchants }

    init(_ services: AppServices) {
        self.services = services
    }

    /// Newest first, read with `paging.fetchLimit`; suspended merchants for admins only.
    func merchants(countyCode: String?, paging: Paging, viewer: Identity?) async throws -> [MerchantProfile] {
        let after = try paging.position.map(Paging.timeAndId)
        let activeOnly = viewer?.role != .admin
        let now = clock.now
        return try await database.read { db in
            let rows = try await store.merchants(
                countyCode: countyCode, activeOnly: activeOnly, after: after, limit: paging.fetchLimit, in: db)
            let counts = try await products.onSaleCounts(merchantIds: rows.map(\.id), now: now, in: db)
            let ratings = try await services.ratings.sums(
                merchantIds: rows.map(\.id), since: now.addingTimeInterval(-RatingRules.window), in: db)
            return rows.map {
                MerchantProfile(merchant: $0, productCount: counts[$0.id] ?? 0, rating: RatingDTO.Summary(ratings[$0.id]))
            }
        }
    }

    /// The merchant if `viewer` may see it (`isVisible`); otherwise it does not exist.
    func profile(_ id: String, viewer: Identity?) async throws -> MerchantProfile {
        let now = clock.now
        let (found, counts, ratings) = try await database.read { db in
            (
                try await store.merchant(id: id, in: db), try await products.onSaleCounts(merchantIds: [id], now: now, in: db),
                try await services.ratings.sums(merchantIds: [id], since: now.addingTimeInterval(-RatingRules.window), in: db)
            )
        }
        guard let merchant = found, Self.isVisible(merchant, to: viewer) else { throw DomainError.notFound("merchant") }
        return MerchantProfile(merchant: merchant, productCount: counts[id] ?? 0, rating: RatingDTO.Summary(ratings[id]))
    }

    /// Active merchants are public; a suspended one only to itself and admins.
    static func isVisible(_ merchant: Merchant, to viewer: Identity?) -> Bool {
        merchant.status == .active || viewer?.role == .admin || viewer?.userId == merchant.ownerId
    }

    func suspend(_ id: String, reason: String?, by admin: Identity) async throws -> MerchantProfile {
        var v = Validator()
        let reason = v.text(reason, "reason", max: 500, multiline: true)
        try v.check()
        return try await change(id, admin, to: .suspended, reason: reason)
    }

    func reinstate(_ id: String, by admin: Identity) async throws -> MerchantProfile {
        try await change(id, admin, to: .active, reason: nil)
    }

    private func change(_ id: String, _ admin: Identity, to status: MerchantStatus, reason: String?) async throws
        -> MerchantProfile
    {
        try await database.write { db in
            guard var merchant = try await store.merchant(id: id, in: db) else { throw DomainError.notFound("merchant") }
            guard merchant.status != status else {
                throw DomainError.invalidTransition(
                    current: merchant.status.rawValue, action: status == .active ? "reinstate" : "suspend")
            }
            try await store.setStatus(merchantId: id, status, reason: reason, at: clock.now, in: db)
            // Its products leave the catalog at once, and come back on reinstatement.
            try await products.setMerchantActive(merchantId: id, status == .active, at: clock.now, in: db)
            try await audit.append(
                AuditEvent(
                    admin, status == .active ? "merchant.reinstate" : "merchant.suspend", .merchant(id),
                    ["reason": reason]), in: db)
            merchant.status = status
            merchant.suspensionReason = reason
            let now = clock.now
            let counts = try await products.onSaleCounts(merchantIds: [id], now: now, in: db)
            let ratings = try await services.ratings.sums(merchantIds: [id], since: now.addingTimeInterval(-RatingRules.window), in: db)
            return MerchantProfile(merchant: merchant, productCount: counts[id] ?? 0, rating: RatingDTO.Summary(ratings[id]))
        }
    }
}

import Foundation

/// What `/me` shows besides the identity: a merchant's merchant, a buyer's organization.
struct AccountProfile: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    struct Profile: Sendable {
        /// The user's merchant once approved; a buyer's organization once registered.
        var merchant: Merchant?
        var organization: BuyerOrganization?
    }

    func profile(of identity: Identity) async throws -> Profile {
        let merchants = self.merchants, buyers = self.buyers
        switch identity.role {
        case .merchant:
            let merchant = try await database.read { db in try await merchants.merchant(ownerId: identity.userId, in: db) }
            return Profile(merchant: merchant)
        case .buyer:
            let organization = try await database.read { db in
                try await buyers.organization(memberId: identity.userId, in: db)
            }
            return Profile(organization: organization)
        default:
            return Profile()
        }
    }
}

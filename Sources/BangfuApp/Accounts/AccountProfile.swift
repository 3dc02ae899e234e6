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
        /// A buyer's part in its organization.
        var memberRole: MemberRole?
    }

    func profile(of identity: Identity) async throws -> Profile {
        let merchants = self.merchants, buyers = self.buyers
        switch identity.role {
        case .merchant:
            let merchant = try await database.read { db in try await merchants.merchant(ownerId: identity.userId, in: db) }
            return Profile(merchant: merchant)
        case .buyer:
            let membership = try await database.read { db in try await buyers.membership(userId: identity.userId, in: db) }
            return Profile(organization: membership?.organization, memberRole: membership?.role)
        default:
            return Profile()
        }
    }
}

import Foundation

/// The bodies the account routes read and write (API.md "Accounts and sessions").
extension AccountsController {
    struct CreateUserInput: Decodable {
        var username, password, role, displayName: String
        /// A county officer's county; a finance officer's region.
        var countyCode, regionCode: String?
    }

    struct SignInInput: Decodable {
        var username, password: String
    }

    struct SessionOutput: Encodable {
        var token: String
        var expiresAt: String
        var user: User
    }

    struct MeOutput: Encodable {
        struct MeUser: Encodable {
            var id: String
            var username: String
            var role: Role
            var displayName: String
        }
        var user: MeUser
        /// The user's merchant once approved; a buyer's organization once registered.
        @NullEncoded var merchant: MerchantDTO.MerchantOutput?
        @NullEncoded var buyerOrganization: BuyerOrganization?
        @NullEncoded var memberRole: MemberRole?
        @NullEncoded var countyCode: String?
        @NullEncoded var regionCode: String?

        init(_ identity: Identity, _ profile: AccountProfile.Profile) {
            user = MeUser(
                id: identity.userId, username: identity.username, role: identity.role, displayName: identity.displayName)
            merchant = profile.merchant.map { MerchantDTO.MerchantOutput($0, productCount: 0, viewer: identity) }
            buyerOrganization = profile.organization
            memberRole = profile.memberRole
            countyCode = identity.countyCode
            regionCode = identity.regionCode
        }
    }
}

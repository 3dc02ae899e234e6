import Foundation

/// What the merchant onboarding and merchant routes read and write (API.md "Merchant
/// onboarding"); no logic beyond mapping.
enum MerchantDTO {

    struct NoteInput: Decodable {
        var note: String?
    }

    struct ReasonInput: Decodable {
        var reason: String?
    }

    struct ApplicationOutput: Encodable {
        var id: String
        var ownerId: String
        var status: ApplicationStatus
        var companyName: String
        var creditCode: String
        var legalRepresentative: String
        var contactName: String
        var contactPhone: String
        var countyCode: String
        var address: String
        @NullEncoded var foodLicenseNumber: String?
        var bankName: String
        /// In full for the owner and admins; masked for county officers.
        var bankAccount: String
        var householdsDriven: Int64
        @NullEncoded var merchantId: String?
        /// Shown to reviewers: e.g. the credit code's area differs from the county.
        var warnings: [String]
        @NullEncoded var documents: [MerchantDocument]?
        @NullEncoded var reviews: [HistoryRecord]?
        var createdAt: String
        var updatedAt: String

        init(
            _ application: MerchantApplication, viewer: Identity, documents: [MerchantDocument]? = nil,
            reviews: [HistoryRecord]? = nil
        ) {
            let f = application.fields
            id = application.id
            ownerId = application.ownerId
            status = application.status
            companyName = f.companyName
            creditCode = f.creditCode
            legalRepresentative = f.legalRepresentative
            contactName = f.contactName
            contactPhone = f.contactPhone
            countyCode = f.countyCode
            address = f.address
            foodLicenseNumber = f.foodLicenseNumber
            bankName = f.bankName
            bankAccount = viewer.role == .county ? maskedAccount(f.bankAccount) : f.bankAccount
            householdsDriven = f.householdsDriven
            merchantId = application.merchantId
            warnings = OnboardingRules.warnings(for: f)
            self.documents = documents
            self.reviews = reviews
            createdAt = application.createdAt.rfc3339
            updatedAt = application.updatedAt.rfc3339
        }

        /// An application's detail: with its documents and its reviews.
        init(_ detail: MerchantApplicationDetail, viewer: Identity) {
            self.init(detail.application, viewer: viewer, documents: detail.documents, reviews: detail.reviews)
        }
    }

    /// The public profile: never bank or contact details. `suspensionReason` is filled for the
    /// merchant itself and admins only.
    struct MerchantOutput: Encodable {
        var id: String
        var companyName: String
        var countyCode: String
        var countyName: String
        var householdsDriven: Int64
        var status: MerchantStatus
        var productCount: Int64
        @NullEncoded var suspensionReason: String?
        var createdAt: String

        init(_ merchant: Merchant, productCount: Int64, viewer: Identity?) {
            id = merchant.id
            companyName = merchant.companyName
            countyCode = merchant.countyCode
            countyName = merchant.countyName
            householdsDriven = merchant.householdsDriven
            status = merchant.status
            self.productCount = productCount
            let privileged = viewer?.role == .admin || viewer?.userId == merchant.ownerId
            suspensionReason = privileged ? merchant.suspensionReason : nil
            createdAt = merchant.createdAt.rfc3339
        }

        init(_ profile: MerchantProfile, viewer: Identity?) {
            self.init(profile.merchant, productCount: profile.productCount, viewer: viewer)
        }
    }
}

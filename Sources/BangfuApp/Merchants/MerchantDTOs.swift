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

    /// What an application's answer adds to its row: the reviewers' warnings (e.g. the credit
    /// code's area differs from the county), and in a detail its documents and reviews.
    struct ApplicationExtra: Encodable {
        var warnings: [String]
        @NullEncoded var documents: [MerchantDocument]?
        @NullEncoded var reviews: [HistoryRecord]?
    }

    /// An application as the API shows it: its row, the fields the applicant filled in (the bank
    /// account masked for county officers) and `ApplicationExtra`.
    typealias ApplicationOutput = Merged<Merged<MerchantApplication, ApplicationFields>, ApplicationExtra>

    /// The public profile: never bank or contact details. `suspensionReason` is filled for the
    /// merchant itself and admins only.
    struct MerchantOutput: Encodable {
        var id, companyName: String
        var countyCode, countyName: String
        var householdsDriven: Int64
        var status: MerchantStatus
        var productCount: Int64
        @NullEncoded var suspensionReason: String?
        /// Averages of the last 365 days' ratings; null without any.
        @NullEncoded var rating: RatingDTO.Summary?
        var createdAt: String

        init(_ merchant: Merchant, productCount: Int64, viewer: Identity?, rating: RatingDTO.Summary? = nil) {
            self.rating = rating
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
            self.init(profile.merchant, productCount: profile.productCount, viewer: viewer, rating: profile.rating)
        }
    }
}

extension Merged where Base == Merged<MerchantApplication, ApplicationFields>, Extra == MerchantDTO.ApplicationExtra {
    init(
        _ application: MerchantApplication, viewer: Identity, documents: [MerchantDocument]? = nil,
        reviews: [HistoryRecord]? = nil
    ) {
        var shown = application.fields
        if viewer.role == .county { shown.bankAccount = maskedAccount(shown.bankAccount) }
        self.init(
            Merged<MerchantApplication, ApplicationFields>(application, shown),
            .init(warnings: OnboardingRules.warnings(for: application.fields), documents: documents, reviews: reviews))
    }

    /// An application's detail: with its documents and its reviews.
    init(_ detail: MerchantApplicationDetail, viewer: Identity) {
        self.init(detail.application, viewer: viewer, documents: detail.documents, reviews: detail.reviews)
    }
}

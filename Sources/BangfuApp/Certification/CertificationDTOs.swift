import Foundation

/// What the certification and certificate routes read and write (API.md "Certification"); no
/// logic beyond mapping.
enum CertificationDTO {

    struct ApplicationInput: Decodable, Sendable {
        var productId: String
        var householdsDriven: Int64
        var description: String
    }

    struct CountyReviewInput: Decodable {
        var approve: Bool
        var note: String?
    }

    struct ApproveInput: Decodable {
        var validDays: Int64?
    }

    struct ReasonInput: Decodable {
        var reason: String?
    }

    /// What a certification application's answer adds to its row: the certificate once issued
    /// and the reviews, in a detail (null in lists).
    struct ApplicationExtra: Encodable {
        @NullEncoded var certificate: CertificateOutput?
        @NullEncoded var reviews: [HistoryRecord]?
    }

    /// An application as the API shows it: its row and `ApplicationExtra`.
    typealias ApplicationOutput = Merged<CertificationApplication, ApplicationExtra>

    /// What a certificate's answer adds to its signed payload.
    struct CertificateExtra: Encodable {
        var signature: String
        var status: CertificateStatus
        @NullEncoded var revocationReason: String?
        @OptionalMillis var revokedAt: Date?
        /// The issue instant again, as every object of the API has its `createdAt`.
        var createdAt: String
    }

    /// A certificate as the API shows it: the payload it signs and `CertificateExtra`.
    typealias CertificateOutput = Merged<CertificatePayload, CertificateExtra>

    struct KeysOutput: Encodable {
        var keys: [JWK]
    }

    struct RevocationInput: Decodable {
        var reason: String?
    }
}

extension Merged where Base == CertificationApplication, Extra == CertificationDTO.ApplicationExtra {
    init(_ application: CertificationApplication, reviews: [HistoryRecord]? = nil, certificate: CertificationDTO.CertificateOutput? = nil) {
        self.init(application, .init(certificate: certificate, reviews: reviews))
    }

    init(_ detail: CertificationDetail) {
        self.init(
            detail.application, reviews: detail.reviews,
            certificate: detail.certificate.map { CertificationDTO.CertificateOutput($0, now: detail.now) })
    }
}

extension Merged where Base == CertificatePayload, Extra == CertificationDTO.CertificateExtra {
    init(_ certificate: Certificate, now: Date) {
        self.init(
            certificate.payload,
            .init(
                signature: certificate.signature, status: certificate.status(now: now),
                revocationReason: certificate.revocationReason, revokedAt: certificate.revokedAt,
                createdAt: certificate.payload.issuedAt))
    }
}

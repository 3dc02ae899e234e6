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

    struct ApplicationOutput: Encodable {
        var id: String
        var productId: String
        var productTitle: String
        var merchantId: String
        var merchantName: String
        var countyCode: String
        var status: CertificationStatus
        var householdsDriven: Int64
        var description: String
        @NullEncoded var certificateNumber: String?
        /// In an application's detail (and the approval's answer); null in lists.
        @NullEncoded var certificate: CertificateOutput?
        @NullEncoded var reviews: [HistoryRecord]?
        var createdAt: String
        var updatedAt: String

        init(_ a: CertificationApplication, reviews: [HistoryRecord]? = nil, certificate: CertificateOutput? = nil) {
            id = a.id
            productId = a.productId
            productTitle = a.productTitle
            merchantId = a.merchantId
            merchantName = a.merchantName
            countyCode = a.countyCode
            status = a.status
            householdsDriven = a.householdsDriven
            description = a.description
            certificateNumber = a.certificateNumber
            self.certificate = certificate
            self.reviews = reviews
            createdAt = a.createdAt.rfc3339
            updatedAt = a.updatedAt.rfc3339
        }

        /// An application's detail: with its reviews and its certificate, if one was issued.
        init(_ detail: CertificationDetail) {
            self.init(
                detail.application, reviews: detail.reviews,
                certificate: detail.certificate.map { CertificateOutput($0, now: detail.now) })
        }
    }

    /// The signed fields, the signature, and what the platform says now (`status`, revocation).
    struct CertificateOutput: Encodable {
        var number: String
        var productId: String
        var productTitle: String
        var merchantId: String
        var merchantName: String
        var countyCode: String
        var issuedAt: String
        var expiresAt: String
        var keyId: String
        var signature: String
        var status: CertificateStatus
        @NullEncoded var revocationReason: String?
        @NullEncoded var revokedAt: String?
        var createdAt: String

        init(_ c: Certificate, now: Date) {
            let p = c.payload
            number = p.number
            productId = p.productId
            productTitle = p.productTitle
            merchantId = p.merchantId
            merchantName = p.merchantName
            countyCode = p.countyCode
            issuedAt = p.issuedAt
            expiresAt = p.expiresAt
            keyId = p.keyId
            signature = c.signature
            status = c.status(now: now)
            revocationReason = c.revocationReason
            revokedAt = c.revokedAt?.rfc3339
            createdAt = p.issuedAt
        }
    }

    struct KeysOutput: Encodable {
        var keys: [JWK]
    }

    struct RevocationInput: Decodable {
        var reason: String?
    }
}

import Foundation
import SQLKit

/// Issues signed certificates and keeps the product's copy of its valid certificate in step.
struct CertificateIssuer: Sendable {
    let keys: SigningKeys
    let store: CertificationStore
    let products: ProductStore

    struct Subject: Sendable {
        var productId: String
        var productTitle: String
        var merchantId: String
        var merchantName: String
        var countyCode: String
        var applicationId: String?
    }

    /// Signs and stores certificates for `subjects` inside the caller's transaction, and makes
    /// each one its product's current certificate.
    func issue(_ subjects: [Subject], validDays: Int64, now: Date, in db: any SQLDatabase) async throws -> [Certificate] {
        let certificates = try await sign(subjects, validDays: validDays, now: now, in: db)
        try await store.insertBatch(certificates, in: db)
        for certificate in certificates {
            try await products.setCertificate(
                productId: certificate.payload.productId, number: certificate.number, expiresAt: certificate.expiresAt, in: db)
        }
        return certificates
    }

    /// Numbers (from the year's sequence, in the caller's transaction) and signs certificates valid
    /// for `validDays` from `now`, cut to the second as they are shown and signed. Stores nothing
    /// else: bulk loaders insert the products first and the certificates after.
    func sign(_ subjects: [Subject], validDays: Int64, now: Date, in db: any SQLDatabase) async throws -> [Certificate] {
        guard !subjects.isEmpty else { return [] }
        let first = try await reserve(subjects.count, now: now, in: db)
        return try await sign(subjects, firstSequence: first, validDays: validDays, now: now)
    }

    /// Takes `count` numbers of the year of `now` from its sequence; answers the first.
    func reserve(_ count: Int, now: Date, in db: any SQLDatabase) async throws -> Int64 {
        try await store.nextSequence(year: CertificateNumber.year(of: Self.issuedAt(now)), count: Int64(count), in: db)
    }

    static func issuedAt(_ now: Date) -> Date { Date(millis: now.millis / 1000 * 1000) }

    /// Signs certificates numbered from `firstSequence` (reserved with `reserve`), outside any
    /// transaction: bulk loaders sign one batch while the previous one is written.
    func sign(_ subjects: [Subject], firstSequence first: Int64, validDays: Int64, now: Date) async throws -> [Certificate] {
        let key = try await keys.current()
        let issuedAt = Self.issuedAt(now)
        let expiresAt = issuedAt.addingTimeInterval(Double(validDays) * 86400)
        let year = CertificateNumber.year(of: issuedAt)
        let certificates = try subjects.enumerated().map { index, subject in
            let payload = CertificatePayload(
                number: CertificateNumber.format(year: year, sequence: first + Int64(index)),
                productId: subject.productId, productTitle: subject.productTitle, merchantId: subject.merchantId,
                merchantName: subject.merchantName, countyCode: subject.countyCode, issuedAt: issuedAt.rfc3339,
                expiresAt: expiresAt.rfc3339, keyId: key.kid)
            return Certificate(
                payload: payload, applicationId: subject.applicationId, issuedAt: issuedAt, expiresAt: expiresAt,
                signature: try payload.signature(with: key.privateKey), revokedAt: nil, revocationReason: nil)
        }
        return certificates
    }
}

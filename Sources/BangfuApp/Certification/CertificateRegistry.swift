import Foundation
import SQLKit

/// Certificates (API.md "Certification"): public to read and verify; revoked by admins,
/// surrendered by their merchants. Every answer comes with the instant its status is read at.
/// Knows nothing of HTTP.
struct CertificateRegistry: UseCase {
    let services: AppServices
    var store: CertificationStore { services.certification }

    init(_ services: AppServices) {
        self.services = services
    }

    /// The certificate numbered `number`; a malformed number is not found either.
    func certificate(_ number: String) async throws -> (certificate: Certificate, now: Date) {
        guard CertificateNumber.isWellFormed(number),
            let certificate = try await database.read({ db in try await store.certificate(number: number, in: db) })
        else { throw DomainError.notFound("certificate") }
        return (certificate, clock.now)
    }

    /// The public 帮扶产品目录, newest first: one page (read with `paging.fetchLimit`), or with
    /// `whole` the whole selection.
    func certificates(
        status: CertificateStatus?, countyCode: String?, merchantId: String?, paging: Paging, whole: Bool = false
    ) async throws -> (certificates: [Certificate], now: Date) {
        let after = try paging.position.map(Paging.timeAndId)
        let now = clock.now
        let rows = try await database.read { db in
            try await store.certificates(
                status: status, countyCode: countyCode, merchantId: merchantId, now: now, after: whole ? nil : after,
                limit: whole ? nil : paging.fetchLimit, in: db)
        }
        return (rows, now)
    }

    /// Revokes the certificate; when it is its product's current certificate, the product loses
    /// it and is delisted in the same transaction (it can be listed again only with a new one).
    func revoke(_ number: String, reason: String?, by user: Identity) async throws -> (certificate: Certificate, now: Date) {
        var v = Validator()
        let reason = v.text(reason, "reason", max: 500, multiline: true)
        try v.check()
        let now = clock.now
        let certificate = try await database.write { db in
            guard let certificate = try await store.certificate(number: number, in: db) else {
                throw DomainError.notFound("certificate")
            }
            guard let reason else { throw DomainError.invalid("reason", "is required") }
            guard try await store.revoke(number: number, reason: reason, by: user.userId, at: now, in: db) else {
                throw DomainError.invalidTransition(current: certificate.status(now: now).rawValue, action: "revoke")
            }
            let productId = certificate.payload.productId
            let wasListed = try await products.product(id: productId, in: db)?.product.status == .listed
            let current = try await products.revokeCertificate(productId: productId, number: number, at: now, in: db)
            try await audit.append(
                AuditEvent(
                    user, "certificate.revoke", .certificate(number),
                    ["reason": reason, "productId": productId, "productDelisted": current && wasListed]), in: db)
            guard let revoked = try await store.certificate(number: number, in: db) else {
                throw DomainError.notFound("certificate")
            }
            return revoked
        }
        return (certificate, now)
    }

    /// Its merchant gives up a valid certificate (SPEC.md "Certification"): it becomes
    /// `surrendered`, the product loses it and is delisted in the same transaction, and the
    /// product's identifying fields may change again.
    func surrender(_ number: String, by user: Identity) async throws -> (certificate: Certificate, now: Date) {
        let now = clock.now
        let certificate = try await database.write { db in
            let merchant = try await merchants.merchant(ownerId: user.userId, in: db)
            guard let certificate = try await store.certificate(number: number, in: db),
                let merchant, certificate.payload.merchantId == merchant.id
            else { throw DomainError.notFound("certificate") }
            guard try await store.surrender(number: number, at: now, in: db) else {
                throw DomainError.invalidTransition(current: certificate.status(now: now).rawValue, action: "surrender")
            }
            let productId = certificate.payload.productId
            let delisted = try await products.revokeCertificate(productId: productId, number: number, at: now, in: db)
            try await audit.append(
                AuditEvent(
                    user, "certificate.surrender", .certificate(number),
                    ["productId": productId, "productDelisted": delisted]), in: db)
            guard let surrendered = try await store.certificate(number: number, in: db) else {
                throw DomainError.notFound("certificate")
            }
            return surrendered
        }
        return (certificate, now)
    }

    /// The published verification keys (JWK).
    func keys() async throws -> [JWK] {
        try await signingKeys.published()
    }
}

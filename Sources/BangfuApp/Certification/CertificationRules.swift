import Crypto
import Foundation

/// A certification application's status (SPEC.md "Certification").
enum CertificationStatus: String, Codable, Sendable, CaseIterable {
    case submitted
    case countyApproved = "county_approved"
    case certified
    case rejected
}

enum CertificationRules {
    enum Action: String, Sendable, CaseIterable {
        case countyApprove = "county_approve"
        case approve
        case reject
    }

    /// The table; whose application it is (the origin county's officer) is checked when it is loaded.
    static let workflow = Workflow<CertificationStatus, Action, Role>(
        subject: "a certification application",
        [
            .init(from: .submitted, action: .countyApprove, by: [.county], to: .countyApproved),
            .init(from: .submitted, action: .reject, by: [.county], to: .rejected),
            .init(from: .countyApproved, action: .approve, by: [.admin], to: .certified),
            .init(from: .countyApproved, action: .reject, by: [.admin], to: .rejected),
        ])

    /// The status after `action` by `role`, or nil when the current status does not allow it.
    static func next(from status: CertificationStatus, _ action: Action, by role: Role) -> CertificationStatus? {
        workflow.next(from: status, action, by: role)
    }

    /// Applications that hold their product against a second application.
    static let inProgress: [CertificationStatus] = [.submitted, .countyApproved]

    static let validDaysRange: ClosedRange<Int64> = 1...3650
}

/// What the platform says about a certificate now: derived from the clock at read time, so an
/// expired certificate is expired from its expiry instant on, without waiting for any job.
enum CertificateStatus: String, Codable, Sendable, CaseIterable {
    case valid
    case expired
    case revoked
    /// Given up by its merchant, so that the product's identifying fields may change.
    case surrendered

    static func of(expiresAt: Date, revokedAt: Date?, surrenderedAt: Date? = nil, now: Date) -> CertificateStatus {
        if revokedAt != nil { return .revoked }
        if surrenderedAt != nil { return .surrendered }
        return expiresAt > now ? .valid : .expired
    }
}

/// Certificate numbers `BF-YYYY-NNNNNN`: the year of issue in UTC+8 and a sequence that starts
/// at 1 each year (six digits at least; a seventh appears after 999,999 in one year).
enum CertificateNumber {
    static func format(year: Int, sequence: Int64) -> String {
        let digits = String(sequence)
        return "BF-\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "BF" && parts[1].count == 4 && parts[2].count >= 6
            && parts[1].allSatisfy(\.isASCIIDigit) && parts[2].allSatisfy(\.isASCIIDigit)
    }

    /// The calendar year in UTC+8 (China Standard Time) of an instant.
    static func year(of date: Date) -> Int {
        let shifted = Date(timeIntervalSince1970: date.timeIntervalSince1970 + 8 * 3600)
        return Int(shifted.rfc3339.prefix(4)) ?? 1970
    }
}

/// The signed content of a certificate (API.md): exactly these nine fields, as strings, in
/// RFC 8785 canonical form. `status` and revocation are deliberately outside it.
struct CertificatePayload: Sendable, Equatable, Codable {
    var number: String
    var productId: String
    var productTitle: String
    var merchantId: String
    var merchantName: String
    var countyCode: String
    var issuedAt: String
    var expiresAt: String
    var keyId: String

    var canonical: CanonicalJSON {
        .object([
            "number": .string(number), "productId": .string(productId), "productTitle": .string(productTitle),
            "merchantId": .string(merchantId), "merchantName": .string(merchantName),
            "countyCode": .string(countyCode), "issuedAt": .string(issuedAt), "expiresAt": .string(expiresAt),
            "keyId": .string(keyId),
        ])
    }

    func canonicalBytes() -> [UInt8] {
        // Strings only: canonicalisation cannot fail.
        try! canonical.canonicalBytes()
    }

    func signature(with key: Curve25519.Signing.PrivateKey) throws -> String {
        Base64URL.encode(try key.signature(for: canonicalBytes()))
    }

    /// True when `signature` (base64url) is `key`'s signature over this payload.
    func isSigned(_ signature: String, by key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = Base64URL.decode(signature) else { return false }
        return key.isValidSignature(bytes, for: canonicalBytes())
    }
}

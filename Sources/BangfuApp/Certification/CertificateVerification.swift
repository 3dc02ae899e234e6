import Crypto
import Foundation

/// `bangfu certificate verify`: checks a certificate's signature offline, from its JSON (as
/// `GET /api/v1/certificates/{number}` answers it) and the published keys (`{keys: [JWK]}`, an
/// array of JWK, or one JWK). It trusts neither the server's `status` nor its word about keys
/// beyond the JWK itself: the canonical payload is rebuilt from the nine signed fields.
public enum CertificateVerification {
    public struct Outcome: Sendable {
        public var number: String
        public var keyId: String
        public var signatureValid: Bool
        /// Expired at `now` by its own signed expiry (revocation is only known to the platform).
        public var expired: Bool
        public var claimedStatus: String?
        public var summary: String
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a certificate's answer holds beside the payload it signs.
    private struct Signature: Decodable {
        var signature: String
        var status: String?
    }

    private struct KeySet: Decodable {
        var keys: [JWK]
    }

    public static func verify(certificateJSON: Data, keysJSON: Data, now: Date) throws -> Outcome {
        let signed: Merged<CertificatePayload, Signature>
        do {
            signed = try JSONDecoder().decode(Merged<CertificatePayload, Signature>.self, from: certificateJSON)
        } catch {
            throw Problem(description: "not a certificate: \(error)")
        }
        let decoder = JSONDecoder()
        let keys =
            (try? decoder.decode(KeySet.self, from: keysJSON).keys) ?? (try? decoder.decode([JWK].self, from: keysJSON))
            ?? (try? decoder.decode(JWK.self, from: keysJSON)).map { [$0] }
        guard let keys else { throw Problem(description: "the key file holds no Ed25519 JWK") }
        guard let jwk = keys.first(where: { $0.kid == signed.base.keyId }), let key = jwk.publicKey else {
            throw Problem(description: "no Ed25519 key with kid \(signed.base.keyId) among \(keys.count) keys")
        }
        let payload = signed.base
        let valid = payload.isSigned(signed.extra.signature, by: key)
        let expiry = ISO8601DateFormatter().date(from: payload.expiresAt)
        let expired = expiry.map { $0 <= now } ?? true
        var summary = valid ? "signature valid" : "SIGNATURE INVALID"
        summary += ": \(payload.number) for \(payload.productTitle) (\(payload.merchantName), county \(payload.countyCode))"
        summary += ", issued \(payload.issuedAt), expires \(payload.expiresAt)\(expired ? " (expired)" : ""), key \(payload.keyId)"
        if let status = signed.extra.status { summary += "; the platform says: \(status)" }
        return Outcome(
            number: payload.number, keyId: payload.keyId, signatureValid: valid, expired: expired,
            claimedStatus: signed.extra.status, summary: summary)
    }
}

import Crypto
import Foundation

/// A canteen buyer's checkout (API.md `POST /orders`): one order per merchant, placed all or
/// nothing through the placement queue, answered once per Idempotency-Key.
struct Checkout: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// Places `input` for the actor's verified organization; the answer is the one the key keeps
    /// (a replay when the key was used before for the same request).
    func place(_ input: OrderDTO.PlaceInput, key: String, by actor: Identity) async throws -> PlacementAnswer {
        let hash = try Self.requestHash(input)
        let membership = try await database.read { db in try await buyers.membership(userId: actor.userId, in: db) }
        let organization = membership?.organization
        if membership?.role == .contractor, input.purpose == OrderPurpose.union.rawValue {
            throw DomainError(
                .forbidden, code: "forbidden", detail: "a contractor buys for the canteen, never for the union",
                errors: [FieldError("purpose", "union orders are the unit's own")])
        }
        guard let organization else {
            throw DomainError(.forbidden, code: "forbidden", detail: "register your organization first")
        }
        guard organization.status == .active else {
            throw DomainError(.forbidden, code: "forbidden", detail: "your organization is not verified yet")
        }
        return try await placements.submit(
            PlacementRequest(user: actor, organization: organization, key: key, requestHash: hash, input: input))
    }

    /// The canonical JSON of a value: sorted keys, unescaped slashes.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// SHA-256 of the normalised request (decoded and re-encoded with sorted keys), so the same
    /// checkout with other whitespace or key order is the same request.
    static func requestHash(_ input: OrderDTO.PlaceInput) throws -> String {
        SHA256.hash(data: try encode(input)).lowercaseHex
    }
}

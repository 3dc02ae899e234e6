import Foundation
import Hummingbird

/// `?limit=` (default 20, at most 100) and opaque `?cursor=` tokens (API.md "Lists"). A cursor is
/// base64url of a tagged position, so a cursor from another list, or one the server did not
/// issue, is a 400.
extension Paging {
    static func parse(_ request: Request, tag: String) throws -> Paging {
        var limit = 20
        if let raw = request.uri.queryParameters["limit"] {
            guard let value = Int(String(raw)), (1...100).contains(value) else {
                throw DomainError.badRequest("limit must be a whole number from 1 to 100", field: "limit")
            }
            limit = value
        }
        var position: String?
        if let raw = request.uri.queryParameters["cursor"] {
            guard let decoded = Self.decode(String(raw)), decoded.hasPrefix(tag + ":") else {
                throw DomainError.badRequest("cursor was not issued by this list", field: "cursor")
            }
            position = String(decoded.dropFirst(tag.count + 1))
        }
        return Paging(limit: limit, position: position)
    }

    /// The value of an enumerated query parameter (`?status=`, `?sort=`, `?kind=`), nil when absent;
    /// an unknown value is a 400 naming the parameter and the values it takes.
    static func choice<T: RawRepresentable & CaseIterable>(_ request: Request, _ name: String, _ type: T.Type) throws -> T?
    where T.RawValue == String {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = T(rawValue: String(raw)) else {
            throw DomainError.badRequest(
                "\(name) must be one of " + T.allCases.map(\.rawValue).joined(separator: ", "), field: name)
        }
        return value
    }
}

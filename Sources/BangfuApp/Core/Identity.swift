import Foundation

/// Who acts: the signed-in user as every use case sees it (the HTTP edge builds it from the session).
public struct Identity: Sendable, Equatable {
    public var userId: String
    public var username: String
    public var role: Role
    public var displayName: String
    public var countyCode: String?
    /// A finance officer's region (a province, prefecture or county code).
    public var regionCode: String? = nil
    /// SHA-256 of the session token, so sign-out can end exactly this session.
    var tokenHash: String
    /// True when the token came from the session cookie rather than the Authorization header.
    var viaCookie: Bool
}

/// A user holds exactly one role (SPEC.md "People").
public enum Role: String, Codable, Sendable, CaseIterable {
    case merchant
    case buyer
    case county
    case admin

    /// Roles anyone may register for themselves; the others only an admin creates.
    var isSelfService: Bool { self == .merchant || self == .buyer }
}

/// A user holds exactly one role (SPEC.md "People").
public enum Role: String, Codable, Sendable, CaseIterable {
    case merchant
    case buyer
    case county
    case admin
    /// A finance bureau's officer (财政部门), scoped to a region: sees its units' filings and
    /// progress, confirms top-level filings, decides waivers, reads bulletins.
    case finance

    /// Roles anyone may register for themselves; the others only an admin creates.
    var isSelfService: Bool { self == .merchant || self == .buyer }
}

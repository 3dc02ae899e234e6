import Foundation

/// A yearly filing's state (SPEC "The yearly filing").
enum FilingStatus: String, Codable, Sendable, CaseIterable {
    case submitted, confirmed, returned
}

/// What a reviewer does with a filing.
enum FilingAction: String, Sendable, CaseIterable {
    /// `POST .../quota-plans/{year}/confirmation`
    case confirm
    /// `POST .../quota-plans/{year}/return`
    case `return`
}

/// Who reviews a filing: the manager of the organization's parent or, for a top-level
/// organization, a finance officer of its region.
enum FilingReviewer: String, Sendable, CaseIterable {
    case supervisor, finance

    /// The role of the users who act as this reviewer.
    var role: Role {
        switch self {
        case .supervisor: .buyer
        case .finance: .finance
        }
    }
}

/// How an organization feeds its staff (SPEC "Canteen mode").
enum CanteenMode: String, Codable, Sendable, CaseIterable {
    /// Its own canteen.
    case own
    /// An outsourced operator runs its canteen; the unit files and may add contractor accounts.
    case outsourced
    /// Another organization files for a canteen they share: no budget, cannot order.
    case shared
    /// 无食堂: no budget, no reserved share, cannot order.
    case none

    /// Whether the organization buys for a canteen of its own (`hasCanteen`).
    var hasCanteen: Bool { self == .own || self == .outsourced }
}

/// A waiver of the minimum ratio, decided by finance.
enum WaiverStatus: String, Codable, Sendable, CaseIterable {
    case requested, approved, rejected
}

/// The rules of the yearly filing, pure: no database.
enum FilingRules {
    /// The review table: confirm a submitted filing, return a submitted or confirmed one (the
    /// manager edits and resubmits); either by the supervisor or, above the tree, by finance.
    static let workflow = Workflow<FilingStatus, FilingAction, FilingReviewer>(
        subject: "a filing",
        [
            .init(from: .submitted, action: .confirm, by: [.supervisor, .finance], to: .confirmed),
            .init(from: .submitted, action: .return, by: [.supervisor, .finance], to: .returned),
            .init(from: .confirmed, action: .return, by: [.supervisor, .finance], to: .returned),
        ])

    /// The minimum ratio of an organization in `regionCode`: the most specific override among
    /// its county, prefecture and province, else the national default.
    static func minimumBp(regionCode: String?, overrides: [String: Int64], defaultBp: Int64) -> Int64 {
        for candidate in RegionRules.chain(of: regionCode) {
            if let bp = overrides[candidate] { return bp }
        }
        return defaultBp
    }
}

/// A filing as typed, after the HTTP layer's defaults (absent numbers read as 0).
struct FilingInput: Sendable, Hashable {
    var canteenMode: CanteenMode
    var canteenBudgetFen: Int64
    var reservedRatioBp: Int64
    var sharedCanteenOrganizationId: String?
    var unionBudgetFen: Int64
    var waiverReason: String?

    var plan: QuotaPlanInput {
        QuotaPlanInput(hasCanteen: canteenMode.hasCanteen, canteenBudgetFen: canteenBudgetFen, reservedRatioBp: reservedRatioBp)
    }
}

extension FilingRules {
    /// The canteen mode from `canteenMode` or the older `hasCanteen` (true = own, false = none).
    static func mode(canteenMode: String?, hasCanteen: Bool?) -> (mode: CanteenMode?, problem: FieldProblem?) {
        switch (canteenMode, hasCanteen) {
        case (nil, nil): return (nil, .init(field: "canteenMode", message: "is required: own, outsourced, shared or none"))
        case (nil, let has?): return (has ? .own : CanteenMode.none, nil)
        case (let raw?, let has):
            guard let mode = CanteenMode(rawValue: raw) else {
                return (nil, .init(field: "canteenMode", message: "must be one of own, outsourced, shared, none"))
            }
            if let has, has != mode.hasCanteen {
                return (nil, .init(field: "hasCanteen", message: "disagrees with canteenMode \(raw)"))
            }
            return (mode, nil)
        }
    }

    /// Problems of a filing: the plan's own (SPEC quota rules; the minimum waived when a reason is
    /// given), a below-minimum ratio without a reason, a shared canteen without its organization,
    /// a union budget out of range or below what union orders already hold.
    static func problems(_ input: FilingInput, minimumBp: Int64, alreadyUsedFen: Int64, unionUsedFen: Int64)
        -> [FieldProblem]
    {
        let below = input.canteenMode.hasCanteen && input.reservedRatioBp < minimumBp
        let waived = below && input.waiverReason != nil
        var problems = QuotaRules.problems(input.plan, minimumRatioBp: waived ? 0 : minimumBp, alreadyUsedFen: alreadyUsedFen)
        if below && !waived, let index = problems.firstIndex(where: { $0.field == "reservedRatioBp" }) {
            problems[index] = .init(
                field: "reservedRatioBp",
                message: "is below the minimum of \(minimumBp) bp here: raise it or give a waiverReason for finance to decide")
        }
        if input.waiverReason != nil && !below {
            problems.append(.init(field: "waiverReason", message: "is only for a ratio below the minimum of \(minimumBp) bp"))
        }
        switch (input.canteenMode, input.sharedCanteenOrganizationId) {
        case (.shared, nil):
            problems.append(.init(field: "sharedCanteenOrganizationId", message: "names the organization that files for the shared canteen"))
        case (.shared, _?), (_, nil): break
        case (_, _?):
            problems.append(.init(field: "sharedCanteenOrganizationId", message: "is only for canteenMode shared"))
        }
        if input.unionBudgetFen < 0 || input.unionBudgetFen > QuotaRules.maximumBudgetFen {
            problems.append(.init(field: "unionBudgetFen", message: "must be between 0 and \(QuotaRules.maximumBudgetFen)"))
        } else if input.unionBudgetFen < unionUsedFen {
            problems.append(.init(
                field: "unionBudgetFen", message: "cannot be below the \(unionUsedFen) fen union orders already hold this year"))
        }
        return problems
    }
}

/// A filing's id in history, audit, notifications and webhooks: `"{organization}/{year}"`. The one
/// place that writes and reads it.
struct FilingID: Sendable, Equatable, CustomStringConvertible {
    var organizationId: String
    var year: Int

    init(organizationId: String, year: Int) {
        self.organizationId = organizationId
        self.year = year
    }

    /// nil unless `string` is an organization id, one slash and a year.
    init?(_ string: String) {
        let parts = string.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let year = Int(parts[1]) else { return nil }
        self.init(organizationId: String(parts[0]), year: year)
    }

    var description: String { "\(organizationId)/\(year)" }
}

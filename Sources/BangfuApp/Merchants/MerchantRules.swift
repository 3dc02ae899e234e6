import Foundation

/// The 统一社会信用代码 (GB 32100-2015): 18 characters over a 31-character alphabet (no I, O, S, V,
/// Z), the last one a check character over the first 17.
enum CreditCode {
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    enum Problem: Equatable {
        case length
        case character(position: Int)
        case checkCharacter(expected: Character)

        var message: String {
            switch self {
            case .length: "must be 18 characters"
            case .character(let position): "character \(position) is not allowed (digits and A-Z without I, O, S, V, Z)"
            case .checkCharacter: "check character does not match (GB 32100-2015)"
            }
        }
    }

    /// The check character for the first 17 characters, or nil if one is outside the alphabet.
    static func checkCharacter(_ first17: some Collection<Character>) -> Character? {
        var sum = 0
        for (index, character) in first17.enumerated() {
            guard index < 17, let value = alphabet.firstIndex(of: character) else { return nil }
            sum += value * weights[index]
        }
        let check = (31 - sum % 31) % 31
        return alphabet[check]
    }

    /// Validates an upper-cased code; nil when it is valid.
    static func problem(_ code: String) -> Problem? {
        let characters = Array(code)
        guard characters.count == 18 else { return .length }
        for (index, character) in characters.enumerated() where !alphabet.contains(character) {
            return .character(position: index + 1)
        }
        // Every character is in the alphabet by now, so the check character exists.
        guard let expected = checkCharacter(characters.prefix(17)), let last = characters.last else { return .length }
        return last == expected ? nil : .checkCharacter(expected: expected)
    }

    /// Characters 3 to 8: the GB/T 2260 area code of the registering authority.
    static func areaCode(_ code: String) -> String {
        let characters = Array(code)
        guard characters.count >= 8 else { return "" }
        return String(characters[2..<8])
    }
}

enum PhoneNumber {
    /// An 11-digit mainland mobile number (1[3-9]xxxxxxxxx), or a fixed line with its area code:
    /// 0 and 2 or 3 digits, an optional hyphen, 7 or 8 digits, an optional `-extension`.
    static func isValid(_ phone: String) -> Bool {
        phone.wholeMatch(of: /1[3-9][0-9]{9}/) != nil
            || phone.wholeMatch(of: /0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}(-[0-9]{1,6})?/) != nil
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

enum ApplicationStatus: String, Codable, Sendable, CaseIterable {
    case submitted
    case recommended
    case approved
    case rejected
}

enum MerchantStatus: String, Codable, Sendable {
    case active
    case suspended
}

/// The onboarding state machine (主体自愿申请、县级部门推荐、平台审核) as a pure function.
enum OnboardingRules {
    enum Action: String, Sendable {
        case resubmit
        case recommend
        case approve
        case reject
    }

    /// The table; who may act on which application (own county, owner) is checked when it is loaded.
    static let workflow = Workflow<ApplicationStatus, Action, Role>(
        subject: "a merchant application",
        [
            .init(from: .rejected, action: .resubmit, by: [.merchant], to: .submitted),
            .init(from: .submitted, action: .recommend, by: [.county], to: .recommended),
            .init(from: .recommended, action: .approve, by: [.admin], to: .approved),
            .init(from: .submitted, action: .reject, by: [.county, .admin], to: .rejected),
            .init(from: .recommended, action: .reject, by: [.admin], to: .rejected),
        ])

    /// The status after `action` by `role`, or nil when the current status does not allow it.
    static func next(from status: ApplicationStatus, _ action: Action, by role: Role) -> ApplicationStatus? {
        workflow.next(from: status, action, by: role)
    }

    /// Applications that hold their credit code (and their owner) against a new application.
    static let inProgress: [ApplicationStatus] = [.submitted, .recommended]
}

extension OnboardingRules {
    /// At most this many documents on one application.
    static let maxDocuments = 20

    /// Documents may be added only while the application can still change (`submitted`, or
    /// `rejected` before it is resubmitted): what the reviewers approved stays as they saw it.
    static func checkDocumentUpload(status: ApplicationStatus, documents: Int) throws {
        guard status == .submitted || status == .rejected else {
            throw DomainError(
                .conflict, code: "invalid_transition",
                detail: "documents can be added only while the application is submitted or rejected; it is \(status.rawValue)",
                errors: [FieldError("status", "current status is \(status.rawValue)")])
        }
        guard documents < maxDocuments else {
            throw DomainError.conflict(
                "an application holds at most \(maxDocuments) documents", code: "document_limit_reached", field: "documents")
        }
    }
}

/// Document types accepted as uploads, recognised from their first bytes.
enum SniffedType: String {
    case pdf = "application/pdf"
    case jpeg = "image/jpeg"
    case png = "image/png"

    static func sniff(_ bytes: [UInt8]) -> SniffedType? {
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }
}

/// Masks all but the last four characters of a bank account for people who need not see it.
func maskedAccount(_ account: String) -> String {
    guard account.count > 4 else { return String(repeating: "*", count: account.count) }
    return String(repeating: "*", count: account.count - 4) + account.suffix(4)
}

extension OnboardingRules {
    /// Warnings shown to reviewers; they do not block the application.
    static func warnings(for fields: ApplicationFields) -> [String] {
        let area = CreditCode.areaCode(fields.creditCode)
        if area != fields.countyCode {
            return ["统一社会信用代码的登记地区 \(area) 与所在县 \(fields.countyCode) 不一致 (credit code area \(area) differs from county \(fields.countyCode))"]
        }
        return []
    }
}

/// A `YYYY-MM-DD` calendar date.
struct CalendarDate: Sendable, Equatable, Comparable {
    var year: Int
    var month: Int
    var day: Int

    init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            text.utf8.allSatisfy({ (48...57).contains($0) || $0 == 45 }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
            calendar.dateComponents([.year, .month, .day], from: date) == components
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func < (a: Self, b: Self) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
}

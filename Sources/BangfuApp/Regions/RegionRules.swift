import Foundation

/// The levels of GB/T 2260 administrative divisions the platform knows.
enum RegionLevel: String, Codable, Sendable, CaseIterable {
    case province, prefecture, county
}

/// GB/T 2260 codes (SPEC "Budget units as the scheme really runs them"): six digits, two for the
/// province, two for the prefecture, two for the county-level division; a province ends in
/// `0000`, a prefecture in `00`. Pure: no database.
enum RegionRules {
    /// Whether `code` is six ASCII digits and not all zero.
    static func isWellFormed(_ code: String) -> Bool {
        code.utf8.count == 6 && code.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && code != "000000"
            && !code.hasPrefix("00")
    }

    /// The level a well-formed code names by its shape.
    static func level(of code: String) -> RegionLevel {
        if code.hasSuffix("0000") { return .province }
        if code.hasSuffix("00") { return .prefecture }
        return .county
    }

    /// The code's digits that every division inside it shares: 2 for a province, 4 for a
    /// prefecture, all 6 for a county.
    static func prefix(of code: String) -> Substring {
        switch level(of: code) {
        case .province: code.prefix(2)
        case .prefecture: code.prefix(4)
        case .county: code.prefix(6)
        }
    }

    /// Whether the division `code` lies inside (or is) the division `scope`: a finance officer of
    /// `230000` covers every Heilongjiang code, one of `230100` Harbin's, one of `230102` only it.
    static func covers(_ scope: String, _ code: String) -> Bool {
        isWellFormed(scope) && isWellFormed(code) && code.hasPrefix(prefix(of: scope))
    }

    /// The division and those above it, most specific first (`230102` → 230102, 230100, 230000);
    /// empty for no or a malformed code.
    static func chain(of code: String?) -> [String] {
        guard let code, isWellFormed(code) else { return [] }
        var chain = [code]
        for next in [String(code.prefix(4)) + "00", String(code.prefix(2)) + "0000"] where next != chain.last {
            chain.append(next)
        }
        return chain
    }

    /// The province a code lies in (`230102` → `230000`).
    static func province(of code: String) -> String {
        String(code.prefix(2)) + "0000"
    }

    /// Why `code` cannot be added under `parentCode` (nil: it can): a province has no parent; a
    /// prefecture lies under its province, a county under a prefecture of its own province (a
    /// municipality's districts sit under its `xx0100` 市辖区 entry).
    static func placementProblem(code: String, parentCode: String?) -> String? {
        switch (level(of: code), parentCode) {
        case (.province, nil): return nil
        case (.province, _?): return "a province has no parent"
        case (_, nil): return "is required for a prefecture or county"
        case (.prefecture, let parent?):
            return level(of: parent) == .province && covers(parent, code) ? nil : "must be the province the code lies in"
        case (.county, let parent?):
            return level(of: parent) == .prefecture && covers(parent, code) ? nil : "must be the prefecture the code lies in"
        }
    }
}

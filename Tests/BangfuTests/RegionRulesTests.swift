import Testing

@testable import BangfuApp

/// GB/T 2260 codes and the organization tree's rules, without a database.
@Suite struct RegionRulesTests {
    @Test func codesHaveLevelsAndCoverTheirInside() {
        for bad in ["", "23010", "2301022", "23010a", "000000", "001234", "２３０１０２"] {
            #expect(!RegionRules.isWellFormed(bad), "\(bad)")
        }
        #expect(RegionRules.level(of: "230000") == .province)
        #expect(RegionRules.level(of: "230100") == .prefecture)
        #expect(RegionRules.level(of: "230102") == .county)
        #expect(RegionRules.covers("230000", "230102") && RegionRules.covers("230100", "230102"))
        #expect(RegionRules.covers("230102", "230102") && !RegionRules.covers("230102", "230103"))
        #expect(!RegionRules.covers("230000", "220102") && !RegionRules.covers("230100", "230202"))
        #expect(!RegionRules.covers("23", "230102"))
        #expect(RegionRules.province(of: "231283") == "230000")
    }

    @Test func aDivisionSitsUnderTheLevelAboveWithinIt() {
        #expect(RegionRules.placementProblem(code: "110000", parentCode: nil) == nil)
        #expect(RegionRules.placementProblem(code: "110000", parentCode: "230000") != nil)
        #expect(RegionRules.placementProblem(code: "110100", parentCode: "110000") == nil)
        #expect(RegionRules.placementProblem(code: "110100", parentCode: nil) != nil)
        #expect(RegionRules.placementProblem(code: "110100", parentCode: "230000") != nil)
        #expect(RegionRules.placementProblem(code: "110105", parentCode: "110100") == nil)
        #expect(RegionRules.placementProblem(code: "110105", parentCode: "110000") != nil)
        #expect(RegionRules.placementProblem(code: "110105", parentCode: "120100") != nil)
    }

    @Test func theTreeRefusesCyclesDepthAndOtherProvinces() {
        // b's parent is a, a's is root: hanging root below b is a cycle, so is a below itself.
        #expect(BuyerTreeRules.moveProblem(id: "root", parentId: "b", parentAncestors: ["a", "root"], subtreeHeight: 2) != nil)
        #expect(BuyerTreeRules.moveProblem(id: "a", parentId: "a", parentAncestors: [], subtreeHeight: 0) != nil)
        // Depth: the parent at level 5 (4 ancestors) takes a leaf (level 6), not a unit with one level below it.
        let fourAbove = ["p4", "p3", "p2", "p1"]
        #expect(BuyerTreeRules.moveProblem(id: "x", parentId: "p5", parentAncestors: fourAbove, subtreeHeight: 0) == nil)
        #expect(BuyerTreeRules.moveProblem(id: "x", parentId: "p5", parentAncestors: fourAbove, subtreeHeight: 1) != nil)
        #expect(BuyerTreeRules.moveProblem(id: "x", parentId: "p6", parentAncestors: ["p5"] + fourAbove, subtreeHeight: 0) != nil)
        #expect(BuyerTreeRules.regionProblem(regionCode: "230103", parentRegion: "230000") == nil)
        #expect(BuyerTreeRules.regionProblem(regionCode: "220102", parentRegion: "230000") != nil)
        #expect(BuyerTreeRules.regionProblem(regionCode: "230103", parentRegion: nil) != nil)
    }
}

/// The yearly filing's pure rules.
@Suite struct FilingRulesTests {
    @Test func aFilingIdIsAnOrganizationAndAYear() {
        #expect(FilingID("org-1/2026") == FilingID(organizationId: "org-1", year: 2026))
        #expect(FilingID(organizationId: "org-1", year: 2026).description == "org-1/2026")
        for bad in ["org-1", "org-1/", "/2026", "org-1/20x6", "org-1/2026/3", ""] {
            #expect(FilingID(bad) == nil, "\(bad)")
        }
    }

    @Test func theReviewTable() {
        for status in FilingStatus.allCases {
            for action in FilingAction.allCases {
                for reviewer in FilingReviewer.allCases {
                    let expected: FilingStatus? =
                        switch (status, action) {
                        case (.submitted, .confirm): .confirmed
                        case (.submitted, .return), (.confirmed, .return): .returned
                        default: nil
                        }
                    #expect(FilingRules.workflow.next(from: status, action, by: reviewer) == expected, "\(status) \(action)")
                }
            }
        }
        #expect(Set(FilingReviewer.allCases.map(\.role)) == [.buyer, .finance])
    }

    @Test func theMostSpecificMinimumWins() {
        let overrides: [String: Int64] = ["230000": 1500, "230100": 1200, "230103": 1100]
        #expect(FilingRules.minimumBp(regionCode: "230103", overrides: overrides, defaultBp: 1000) == 1100)
        #expect(FilingRules.minimumBp(regionCode: "230102", overrides: overrides, defaultBp: 1000) == 1200)
        #expect(FilingRules.minimumBp(regionCode: "230202", overrides: overrides, defaultBp: 1000) == 1500)
        #expect(FilingRules.minimumBp(regionCode: "220102", overrides: overrides, defaultBp: 1000) == 1000)
        #expect(FilingRules.minimumBp(regionCode: nil, overrides: overrides, defaultBp: 1000) == 1000)
        #expect(RegionRules.chain(of: "230000") == ["230000"])
        #expect(RegionRules.chain(of: "230100") == ["230100", "230000"])
        #expect(RegionRules.chain(of: "23010x").isEmpty)
    }

    @Test func modesAndProblems() {
        #expect(FilingRules.mode(canteenMode: nil, hasCanteen: true).mode == .own)
        #expect(FilingRules.mode(canteenMode: nil, hasCanteen: false).mode == CanteenMode.none)
        #expect(FilingRules.mode(canteenMode: "outsourced", hasCanteen: true).mode == .outsourced)
        #expect(FilingRules.mode(canteenMode: "shared", hasCanteen: true).problem?.field == "hasCanteen")
        #expect(FilingRules.mode(canteenMode: nil, hasCanteen: nil).problem?.field == "canteenMode")
        #expect(FilingRules.mode(canteenMode: "x", hasCanteen: nil).problem?.field == "canteenMode")
        func fields(_ input: FilingInput, minimum: Int64 = 1000, used: Int64 = 0, union: Int64 = 0) -> [String] {
            FilingRules.problems(input, minimumBp: minimum, alreadyUsedFen: used, unionUsedFen: union).map(\.field)
        }
        let own = FilingInput(
            canteenMode: .own, canteenBudgetFen: 1_000_000, reservedRatioBp: 1000, sharedCanteenOrganizationId: nil,
            unionBudgetFen: 0, waiverReason: nil)
        #expect(fields(own).isEmpty)
        #expect(fields(own, minimum: 1500) == ["reservedRatioBp"])
        var waived = own
        waived.waiverReason = "小食堂"
        #expect(fields(waived, minimum: 1500).isEmpty)
        #expect(fields(waived, minimum: 1000) == ["waiverReason"])
        var union = own
        union.unionBudgetFen = 100
        #expect(fields(union, union: 101) == ["unionBudgetFen"])
        union.unionBudgetFen = -1
        #expect(fields(union) == ["unionBudgetFen"])
        let shared = FilingInput(
            canteenMode: .shared, canteenBudgetFen: 0, reservedRatioBp: 0, sharedCanteenOrganizationId: nil, unionBudgetFen: 0,
            waiverReason: nil)
        #expect(fields(shared) == ["sharedCanteenOrganizationId"])
        var named = own
        named.sharedCanteenOrganizationId = "o2"
        #expect(fields(named) == ["sharedCanteenOrganizationId"])
    }
}

/// The bulletin's grouping and ranking.
@Suite struct BulletinRulesTests {
    func group(_ key: String, name: String = "单位", units: Int64 = 1, filed: Int64 = 1, reserved: Int64 = 1000, completed: Int64 = 0)
        -> BulletinGroup
    {
        let unit = BulletinGroup.Split.unit
        return BulletinGroup(
            key: key, name: name, units: units, filed: filed, withoutOrders: 0, inactiveAccounts: 0,
            reservedFenHigh: reserved / unit, reservedFenLow: reserved % unit, completedFenHigh: completed / unit,
            completedFenLow: completed % unit, unionBudgetFenHigh: 0, unionBudgetFenLow: 7, unionCompletedFenHigh: 0,
            unionCompletedFenLow: 3)
    }

    @Test func amountsSummedInTwoPartsJoinExactlyOrSaturate() {
        let values: [Int64] = [10_000_000_000_000, 999_999_999, 1, 123_456_789_012]
        let high = values.map { $0 / BulletinGroup.Split.unit }.reduce(0, +)
        let low = values.map { $0 % BulletinGroup.Split.unit }.reduce(0, +)
        #expect(BulletinGroup.Split.join(high: high, low: low) == values.reduce(0, +))
        #expect(BulletinGroup.Split.join(high: 5_000 * 10_000, low: 0) == 50_000_000_000_000_000)
        #expect(BulletinGroup.Split.join(high: 20_000_000_000, low: 0) == .max)
        #expect(BulletinGroup.Split.join(high: -20_000_000_000, low: 0) == .min)
        #expect(BulletinGroup.Split.join(high: -1, low: -5) == -1_000_000_005)
    }

    @Test func aLineIsTheLevelBelowTheScope() {
        #expect(BulletinRules.key(by: .region, scope: nil) == .province)
        #expect(BulletinRules.key(by: .region, scope: "230000") == .prefecture)
        #expect(BulletinRules.key(by: .region, scope: "230100") == .region)
        #expect(BulletinRules.key(by: .region, scope: "230103") == .region)
        #expect(BulletinRules.key(by: .department, scope: "230000") == .department)
        #expect(BulletinRules.key(by: .organization, scope: nil) == .organization)
    }

    @Test func linesRankByCompletionWithTies() {
        let groups = [
            group("230100", units: 2, filed: 1, reserved: 2000, completed: 1000), group("230200", completed: 250),
            group("230700", completed: 1000), group("230300", completed: 250), group("unknown", reserved: 0, completed: 5),
        ]
        let rows = BulletinRules.rows(groups, by: .region, labels: ["230100": "哈尔滨市"])
        #expect(rows.map(\.key) == ["230700", "230100", "230200", "230300", "unknown"])
        #expect(rows.map(\.rank) == [1, 2, 3, 3, 5])
        let harbin = rows[1]
        #expect(harbin.label == "哈尔滨市" && harbin.units == 2 && harbin.filed == 1 && harbin.notFiled == 1)
        #expect(harbin.completionBp == 5000 && harbin.unionBudgetFen == 7 && harbin.unionCompletedFen == 3)
        #expect(rows[2].label == "230200" && rows[4].completionBp == 0)
        #expect(BulletinRules.rows([group("o1", name: "单位d")], by: .organization, labels: ["o1": "x"]).first?.label == "单位d")
        let huge = [group("x", reserved: .max, completed: .max)]
        #expect(BulletinRules.rows(huge, by: .region, labels: [:]).first?.completionBp == 10_000)
    }
}

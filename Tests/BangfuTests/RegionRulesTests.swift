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

import Foundation

/// The rules of the organization tree (SPEC "Hierarchy"), pure: no database.
enum BuyerTreeRules {
    /// A tree is at most this many organizations deep, its root included.
    static let maxDepth = 6

    /// Why `id` cannot hang below `parentId` (nil: it can). `parentAncestors` are the parent's
    /// ancestors, nearest first; `subtreeHeight` is the number of levels below `id` (0 for a leaf).
    static func moveProblem(id: String, parentId: String, parentAncestors: [String], subtreeHeight: Int) -> String? {
        if parentId == id || parentAncestors.contains(id) { return "would make a cycle: the parent lies below this organization" }
        // The parent's depth (root = 1) plus this organization's levels.
        let depth = parentAncestors.count + 1 + 1 + subtreeHeight
        if depth > maxDepth { return "would make the tree \(depth) levels deep; at most \(maxDepth)" }
        return nil
    }

    /// Why an organization of `regionCode` cannot have a parent of `parentRegion` (nil: it can):
    /// a unit and its 主管预算单位 belong to one province.
    static func regionProblem(regionCode: String, parentRegion: String?) -> String? {
        guard let parentRegion else { return "the parent has no region yet" }
        return RegionRules.province(of: regionCode) == RegionRules.province(of: parentRegion)
            ? nil : "the parent lies in another province"
    }
}

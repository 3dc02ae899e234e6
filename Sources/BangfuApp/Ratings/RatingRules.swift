import Foundation

/// The rating rules, pure (SPEC "Ratings"): who rates what, the scores, and a merchant's averages.
enum RatingRules {
    /// An order is rated once its goods are accepted.
    static let rateableStatuses: Set<OrderStatus> = [.accepted, .settled]
    static let scores = 1...5
    static let commentLimit = 500
    static let replyLimit = 500
    /// A merchant's profile averages the ratings of the last 365 days.
    static let window: TimeInterval = 365 * 86_400

    /// Problems of the three scores, each named by its field.
    static func problems(quality: Int?, delivery: Int?, service: Int?) -> [FieldProblem] {
        [("quality", quality), ("delivery", delivery), ("service", service)].compactMap { field, score in
            guard let score, scores.contains(score) else {
                return FieldProblem(field: field, message: "must be a whole number from 1 to 5")
            }
            return nil
        }
    }

    /// A merchant's overall score for `sort=rating`: the mean of its ratings' three scores, in
    /// hundredths rounded half up (100 to 500); 0 when it has none, so unrated merchants sort last.
    static func overallScore(_ sums: RatingSums?) -> Int64 {
        guard let sums, sums.count > 0 else { return 0 }
        return (sums.quality + sums.delivery + sums.service) * 200 / (6 * sums.count) + ((sums.quality + sums.delivery + sums.service) * 200 % (6 * sums.count) >= 3 * sums.count ? 1 : 0)
    }

    /// The average of `count` scores summing to `sum`, to two decimals (half up), exactly: the
    /// hundredths are integer arithmetic, only the final value is a number with a fraction.
    static func average(sum: Int64, count: Int64) -> Double {
        guard count > 0 else { return 0 }
        let hundredths = (sum * 200 + count) / (2 * count)
        return Double(hundredths) / 100
    }
}

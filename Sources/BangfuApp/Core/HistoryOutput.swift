import Foundation

/// One step of a reviewed object's history as every API answer shows it (an application's
/// `reviews`, an order's `events`).
struct HistoryOutput: Encodable {
    var action: String
    var actorId: String
    var actorRole: String
    @NullEncoded var fromStatus: String?
    var toStatus: String
    @NullEncoded var note: String?
    var at: String

    init(_ review: HistoryRecord) {
        action = review.action
        actorId = review.actorId
        actorRole = review.actorRole
        fromStatus = review.fromStatus
        toStatus = review.toStatus
        note = review.note
        at = review.at.rfc3339
    }
}

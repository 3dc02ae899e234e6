import Foundation
import SQLKit

/// Ratings (评价, SPEC "Ratings"): a member of the buying organization (never a contractor) rates
/// an accepted or settled order once; its merchant may answer once; anyone reads a merchant's
/// ratings, never the rater's name. Knows nothing of HTTP.
struct Ratings: UseCase {
    let services: AppServices
    let reading: OrderReading
    var store: RatingStore { services.ratings }

    init(_ services: AppServices) {
        self.services = services
        reading = OrderReading(services)
    }

    struct Input: Decodable, Sendable {
        var quality: Int?
        var delivery: Int?
        var service: Int?
        var comment: String?
    }

    struct ReplyInput: Decodable, Sendable {
        var text: String?
    }

    /// Refuses (404) a caller who is no party to the order, (403) a party who may not take `step`.
    func checkParty(_ orderId: String, for step: Step, by actor: Identity) async throws {
        try await database.read { db in _ = try await order(orderId, for: step, by: actor, lock: false, in: db) }
    }

    enum Step { case rate, reply }

    private func order(_ id: String, for step: Step, by actor: Identity, lock: Bool, in db: any SQLDatabase) async throws -> Order {
        let (order, party) = try await reading.visible(id, to: actor, lock: lock, in: db)
        switch (step, party) {
        case (.rate, .buyer), (.reply, .merchant): return order
        case (.rate, _):
            throw DomainError(.forbidden, code: "forbidden", detail: "an order is rated by a member of its organization, not a contractor")
        case (.reply, _):
            throw DomainError(.forbidden, code: "forbidden", detail: "a rating is answered by the order's merchant")
        }
    }

    func rate(_ orderId: String, _ input: Input, by actor: Identity) async throws -> RatingDTO.Output {
        var v = Validator()
        for problem in RatingRules.problems(quality: input.quality, delivery: input.delivery, service: input.service) {
            v.fail(problem.field, problem.message)
        }
        let comment = v.text(input.comment, "comment", max: RatingRules.commentLimit, required: false, multiline: true)
        try v.check()
        guard let quality = input.quality, let delivery = input.delivery, let service = input.service else {
            throw DomainError.validation(v.errors)
        }
        return try await database.write { db in
            let order = try await order(orderId, for: .rate, by: actor, lock: true, in: db)
            let now = clock.now
            guard RatingRules.rateableStatuses.contains(order.status) else {
                throw DomainError.invalidTransition(current: order.status.rawValue, action: "rate")
            }
            guard try await store.rating(orderId: order.id, in: db) == nil else {
                throw DomainError.conflict("this order is rated already; a rating is given once", code: "already_rated")
            }
            let rating = Rating(
                orderId: order.id, id: ids.next(), organizationId: order.organizationId, merchantId: order.merchantId, raterId: actor.userId,
                quality: quality, delivery: delivery, service: service, comment: comment, reply: nil, repliedAt: nil,
                createdAt: now)
            try await store.insert(rating, in: db)
            try await store.refreshScores(merchantIds: [order.merchantId], now: now, in: db)
            // Under `settled_and_rated` the rating is what completes a settled purchase.
            let rule = try await buyers.completionRule(in: db)
            let net = QuotaRules.netFen(totalFen: order.totalFen, approvedRefundFen: order.refundedFen)
            let change = QuotaRules.change(
                from: (QuotaRules.sum(of: order.status, rated: false, rule: rule), net),
                to: (QuotaRules.sum(of: order.status, rated: true, rule: rule), net))
            if change != (0, 0) {
                try await buyers.adjust(
                    organizationId: order.organizationId, year: order.quotaYear, purpose: order.purpose, committed: change.committed,
                    completed: change.completed, at: now, in: db)
            }
            try await audit.append(
                AuditEvent(actor, "order.rate", .order(order.id), ["quality": quality, "delivery": delivery, "service": service]),
                in: db)
            return RatingDTO.Output(rating)
        }
    }

    func reply(_ orderId: String, _ input: ReplyInput, by actor: Identity) async throws -> RatingDTO.Output {
        var v = Validator()
        let text = v.text(input.text, "text", max: RatingRules.replyLimit, multiline: true)
        try v.check()
        guard let text else { throw DomainError.validation(v.errors) }
        return try await database.write { db in
            let order = try await order(orderId, for: .reply, by: actor, lock: true, in: db)
            let now = clock.now
            guard var rating = try await store.rating(orderId: order.id, in: db) else { throw DomainError.notFound("rating") }
            guard try await store.reply(orderId: order.id, text: text, at: now, in: db) else {
                throw DomainError.conflict("the merchant has answered this rating already; a reply is given once", code: "already_replied")
            }
            (rating.reply, rating.repliedAt) = (text, now)
            try await audit.append(AuditEvent(actor, "order.rating_reply", .order(order.id)), in: db)
            return RatingDTO.Output(rating)
        }
    }

    /// Recomputes the scores of merchants whose oldest counted rating left the 365-day window,
    /// so `sort=rating` follows the profile's window (at start and on every reminder pass).
    /// Answers how many merchants were recomputed.
    @discardableResult
    func refreshDueScores() async throws -> Int {
        let (store, now) = (self.store, clock.now)
        var total = 0
        while true {
            let done = try await database.write { db in
                let due = try await store.scoresDue(now: now, limit: 200, in: db)
                try await store.refreshScores(merchantIds: due, now: now, in: db)
                return due.count
            }
            total += done
            if done < 200 { return total }
        }
    }

    /// A page of a merchant's ratings, newest first, for anyone who may see the merchant.
    func ratings(of merchantId: String, viewer: Identity?, paging: Paging) async throws -> Page<RatingDTO.Public> {
        let after = try paging.position.map(Paging.timeAndId)
        let ratings = try await database.read { db -> [Rating] in
            guard let merchant = try await merchants.merchant(id: merchantId, in: db),
                MerchantDirectory.isVisible(merchant, to: viewer)
            else { throw DomainError.notFound("merchant") }
            return try await store.ratings(merchantId: merchant.id, after: after, limit: paging.fetchLimit, in: db)
        }
        return Page(ratings, paging, tag: "ratings", position: { Paging.timeAndId($0.createdAt, $0.id) }) {
            RatingDTO.Public($0)
        }
    }
}

/// What the rating routes answer (API.md "Orders": the rating object). Never the rater.
enum RatingDTO {
    /// A rating as its order's parties read it: the public rating and the order it is of.
    struct Output: Encodable, Sendable {
        var orderId: String
        var rating: Public

        init(_ rating: Rating) {
            orderId = rating.orderId
            self.rating = Public(rating)
        }

        private enum Keys: String, CodingKey { case orderId }

        func encode(to encoder: any Encoder) throws {
            try rating.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(orderId, forKey: .orderId)
        }
    }

    /// A rating as anyone reads it in a merchant's list: neither the rater nor the order.
    struct Public: Encodable, Sendable {
        var id: String
        var quality, delivery, service: Int
        @NullEncoded var comment: String?
        @NullEncoded var reply: String?
        @NullEncoded var repliedAt: String?
        var createdAt: String

        init(_ rating: Rating) {
            id = rating.id
            quality = rating.quality
            delivery = rating.delivery
            service = rating.service
            comment = rating.comment
            reply = rating.reply
            repliedAt = rating.repliedAt?.rfc3339
            createdAt = rating.createdAt.rfc3339
        }
    }

    /// A merchant's averages over the last 365 days (two decimals); null when it has none.
    struct Summary: Encodable, Sendable, Equatable {
        var count: Int64
        var quality: Double
        var delivery: Double
        var service: Double

        init?(_ sums: RatingSums?) {
            guard let sums, sums.count > 0 else { return nil }
            count = sums.count
            quality = RatingRules.average(sum: sums.quality, count: sums.count)
            delivery = RatingRules.average(sum: sums.delivery, count: sums.count)
            service = RatingRules.average(sum: sums.service, count: sums.count)
        }
    }
}

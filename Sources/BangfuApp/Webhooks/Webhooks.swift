import Foundation
import SQLKit

/// Registering, listing and deleting webhooks, and reading their delivery log (API.md
/// "Notifications and webhooks"). A merchant's webhooks hear of its own orders, refunds and
/// certificates; a buying organization's (registered by any of its members until issue 19 gives
/// organizations managers) of its own orders and refunds; the admins' of everything. Every member
/// of the owner sees and manages the owner's webhooks; anyone else is told they do not exist.
struct Webhooks: UseCase {
    let services: AppServices
    var store: WebhookStore { services.webhooks }
    var settings: WebhookSettings { configuration.webhooks }

    struct Input: Decodable, Sendable {
        var url: String?
        var events: [String]?
    }

    /// What registration answers beside the webhook: its secret, shown this once.
    struct Secret: Encodable, Sendable {
        var secret: String
    }

    typealias Created = Merged<Webhook, Secret>

    init(_ services: AppServices) {
        self.services = services
    }

    func register(_ input: Input, by user: Identity) async throws -> Created {
        var v = Validator()
        var target: WebhookRules.Target?
        switch WebhookRules.target(input.url ?? "") {
        case .success(let checked): target = checked
        case .failure(let problem): v.fail("url", problem.message)
        }
        var subscribed: [String] = []
        switch WebhookRules.events(input.events ?? []) {
        case .success(let checked): subscribed = checked
        case .failure(let problem): v.fail("events", problem.message)
        }
        try v.check()
        guard let target else { throw DomainError.invalid("url", WebhookRules.TargetProblem.malformed.message) }
        // Looked up before the transaction: a slow name server never holds the writer.
        if !settings.allowPrivate, case .failure(let refusal) = await settings.resolver.publicAddress(of: target.host) {
            throw DomainError.invalid("url", refusal.message)
        }
        let (now, events) = (clock.now, subscribed)
        let secret = "whsec_" + randomBase32(bytes: 32)
        return try await database.write { db in
            guard let owner = try await owner(of: user, in: db) else {
                throw DomainError.conflict(
                    user.role == .merchant ? "only an approved merchant has events to hear of" : "register your organization first",
                    code: user.role == .merchant ? "no_merchant" : "no_organization")
            }
            guard try await store.webhooks(of: owner, in: db).count < WebhookRules.perOwner else {
                throw DomainError.conflict(
                    "at most \(WebhookRules.perOwner) webhooks per owner; delete one first", code: "too_many_webhooks")
            }
            let webhook = Webhook(
                id: ids.next(), ownerKind: owner.kind, ownerId: owner.id, createdBy: user.userId, url: target.url,
                events: events, createdAt: now)
            try await store.insert(webhook, secret: secret, in: db)
            try await audit.append(
                AuditEvent(user, "webhook.create", .webhook(webhook.id), ["url": webhook.url, "events": events.joined(separator: ",")]),
                in: db)
            return Merged(webhook, Secret(secret: secret))
        }
    }

    func list(for user: Identity) async throws -> [Webhook] {
        try await database.read { db in
            guard let owner = try await owner(of: user, in: db) else { return [] }
            return try await store.webhooks(of: owner, in: db)
        }
    }

    func delete(_ id: String, by user: Identity) async throws {
        let now = clock.now
        try await database.write { db in
            guard let owner = try await owner(of: user, in: db), let webhook = try await store.webhook(id, of: owner, in: db) else {
                throw DomainError.notFound("webhook")
            }
            try await store.delete(webhook.id, at: now, in: db)
            try await audit.append(AuditEvent(user, "webhook.delete", .webhook(webhook.id), ["url": webhook.url]), in: db)
        }
    }

    func deliveries(of id: String, paging: Paging, for user: Identity) async throws -> Page<DeliveryLogEntry> {
        let after = try paging.position.map(Paging.timeAndId)
        let rows = try await database.read { db in
            guard let owner = try await owner(of: user, in: db), let webhook = try await store.webhook(id, of: owner, in: db) else {
                throw DomainError.notFound("webhook")
            }
            return try await store.log(of: webhook.id, after: after, limit: paging.fetchLimit, in: db)
        }
        return Page(rows, paging, tag: "webhook-deliveries", position: { "\($0.seq)|\($0.id)" }, item: { $0 })
    }

    /// Refuses (403) a buyer who is not its organization's manager.
    func checkOwner(_ user: Identity) async throws {
        _ = try await database.read { db in try await owner(of: user, in: db) }
    }

    /// Whose webhooks the caller manages: its merchant's, its organization's (a manager), or the
    /// admins'; nil for a merchant not yet approved, a buyer without an organization, a county or
    /// finance officer; a purchaser or contractor is refused (403).
    private func owner(of user: Identity, in db: any SQLDatabase) async throws -> WebhookOwner? {
        switch user.role {
        case .admin: .admins
        case .merchant: try await merchants.merchant(ownerId: user.userId, in: db).map { .merchant($0.id) }
        case .buyer:
            // The organization's webhooks are its managers' (a contractor must not hear of every order).
            switch try await buyers.membership(userId: user.userId, in: db) {
            case let membership? where membership.role == .manager: .organization(membership.organization.id)
            case _?: throw DomainError(.forbidden, code: "forbidden", detail: "only the organization's managers manage its webhooks")
            case nil: nil
            }
        case .county, .finance: nil
        }
    }
}

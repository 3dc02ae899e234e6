import Foundation
import SQLKit

/// Writes the webhook deliveries of audited changes into the outbox, in the transaction of the
/// change (the `Notifier` calls it): a change and its deliveries commit or roll back together,
/// and the delivery service sends only what committed. Each event's JSON is rendered here, once,
/// as the matching GET would answer at that moment, and every attempt sends those same bytes.
struct WebhookOutbox: Sendable {
    let store: WebhookStore
    let orders: OrderStore
    let details: OrderDetails
    let certification: CertificationStore
    let ids: IDGenerator
    /// The operator's national minimum ratio, for a filing's `minimumBp`.
    let minimumRatioBp: Int64

    /// An event's object: whose it is (which webhooks may hear of it), rendered as `data` only
    /// once some webhook does.
    struct Subject {
        enum Object {
            case order(Order), refund(Refund), certificate(Certificate), filing(QuotaPlan, regionCode: String?)
        }
        var merchantId: String?
        var organizationId: String?
        var object: Object
    }

    /// The envelope API.md describes: `{id, type, createdAt, data}`.
    struct Envelope: Encodable {
        var id: String
        var type: String
        var createdAt: String
        var data: any Encodable

        enum CodingKeys: String, CodingKey { case id, type, createdAt, data }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(type, forKey: .type)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(data, forKey: .data)
        }
    }

    func enqueue(_ events: [AuditEvent], at now: Date, in db: any SQLDatabase) async throws {
        let typed = events.compactMap { event -> (AuditEvent, String)? in
            guard let kind = NotificationRules.table[event.action]?.kind, WebhookRules.eventTypes.contains(kind) else { return nil }
            return (event, kind)
        }
        // Nobody listens on most platforms most of the time: one indexed read, then nothing.
        guard !typed.isEmpty, try await store.anyLive(in: db) else { return }
        var deliveries: [WebhookDeliveryRow] = []
        for (event, type) in typed {
            for subject in try await subjects(of: event, now: now, in: db) {
                let hooks = try await store.subscribers(
                    of: type, merchantId: subject.merchantId, organizationId: subject.organizationId, in: db)
                guard !hooks.isEmpty else { continue }
                let eventId = ids.next()
                let data = try await render(subject.object, now: now, in: db)
                let body = String(
                    decoding: try JSONEncoder.api.encode(Envelope(id: eventId, type: type, createdAt: now.rfc3339, data: data)),
                    as: UTF8.self)
                deliveries += hooks.map {
                    WebhookDeliveryRow(id: ids.next(), webhookId: $0.id, eventId: eventId, type: type, body: body, createdAt: now)
                }
            }
        }
        try await store.insert(deliveries, in: db)
    }

    /// The objects an event is about: each order of a checkout, an order, a refund, a certificate.
    private func subjects(of event: AuditEvent, now: Date, in db: any SQLDatabase) async throws -> [Subject] {
        switch event.entityType {
        case "checkout":
            var subjects: [Subject] = []
            for id in try await store.orderIds(ofCheckout: event.entityId, in: db) {
                if let order = try await orders.order(id: id, in: db) { subjects.append(Self.subject(order)) }
            }
            return subjects
        case "order":
            return try await orders.order(id: event.entityId, in: db).map { [Self.subject($0)] } ?? []
        case "refund":
            guard let refund = try await orders.refund(id: event.entityId, in: db),
                let order = try await orders.order(id: refund.orderId, in: db)
            else { return [] }
            return [Subject(merchantId: order.merchantId, organizationId: order.organizationId, object: .refund(refund))]
        case "certification_application":
            guard let number = try await store.certificateNumber(ofApplication: event.entityId, in: db) else { return [] }
            return try await certificate(number, in: db)
        case "certificate":
            return try await certificate(event.entityId, in: db)
        case "quota_plan":
            guard let filing = FilingID(event.entityId),
                let organization = try await details.buyers.organization(id: filing.organizationId, in: db),
                let plan = try await details.buyers.plan(organizationId: organization.id, year: filing.year, in: db)
            else { return [] }
            return [Subject(merchantId: nil, organizationId: organization.id, object: .filing(plan, regionCode: organization.regionCode))]
        default:
            return []
        }
    }

    private static func subject(_ order: Order) -> Subject {
        Subject(merchantId: order.merchantId, organizationId: order.organizationId, object: .order(order))
    }

    private func certificate(_ number: String, in db: any SQLDatabase) async throws -> [Subject] {
        guard let certificate = try await certification.certificate(number: number, in: db) else { return [] }
        return [Subject(merchantId: certificate.payload.merchantId, organizationId: nil, object: .certificate(certificate))]
    }

    /// What the matching GET shows: `GET /api/v1/orders/{id}` for an order, the refund as the
    /// order's detail lists it, `GET /api/v1/certificates/{number}` for a certificate.
    private func render(_ object: Subject.Object, now: Date, in db: any SQLDatabase) async throws -> any Encodable {
        switch object {
        case .order(let order): try await details.detail(order, in: db)
        case .refund(let refund): refund
        case .certificate(let certificate): CertificationDTO.CertificateOutput(certificate, now: now)
        case .filing(let plan, let region):
            BuyerDTO.PlanOutput(
                plan, now: now,
                minimumBp: FilingRules.minimumBp(
                    regionCode: region, overrides: try await FilingStore().overrides(for: region, in: db), defaultBp: minimumRatioBp))
        }
    }
}

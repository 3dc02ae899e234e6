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

    /// An event's object: whose it is (which webhooks may hear of it) and what it shows.
    struct Subject {
        var merchantId: String?
        var organizationId: String?
        var data: any Encodable
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
                let body = String(
                    decoding: try JSONEncoder.api.encode(Envelope(id: eventId, type: type, createdAt: now.rfc3339, data: subject.data)),
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
                if let subject = try await order(id, in: db) { subjects.append(subject) }
            }
            return subjects
        case "order":
            return try await order(event.entityId, in: db).map { [$0] } ?? []
        case "refund":
            guard let refund = try await orders.refund(id: event.entityId, in: db),
                let order = try await orders.order(id: refund.orderId, in: db)
            else { return [] }
            return [Subject(merchantId: order.merchantId, organizationId: order.organizationId, data: refund)]
        case "certification_application":
            guard let number = try await store.certificateNumber(ofApplication: event.entityId, in: db) else { return [] }
            return try await certificate(number, now: now, in: db)
        case "certificate":
            return try await certificate(event.entityId, now: now, in: db)
        default:
            return []
        }
    }

    /// An order as `GET /api/v1/orders/{id}` shows it.
    private func order(_ id: String, in db: any SQLDatabase) async throws -> Subject? {
        guard let order = try await orders.order(id: id, in: db) else { return nil }
        return Subject(
            merchantId: order.merchantId, organizationId: order.organizationId, data: try await details.detail(order, in: db))
    }

    /// A certificate as `GET /api/v1/certificates/{number}` shows it.
    private func certificate(_ number: String, now: Date, in db: any SQLDatabase) async throws -> [Subject] {
        guard let certificate = try await certification.certificate(number: number, in: db) else { return [] }
        return [
            Subject(
                merchantId: certificate.payload.merchantId, organizationId: nil,
                data: CertificationDTO.CertificateOutput(certificate, now: now))
        ]
    }
}

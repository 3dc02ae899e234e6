import Foundation
import NIOCore
import SQLKit

/// Invoices (发票, SPEC "Invoices"): the merchant records the invoice of a shipped, accepted or
/// settled order, and may attach its PDF; the order's parties read it; payment waits for a current
/// one (`OrderWorkflow`), and an approved refund supersedes it. Knows nothing of HTTP.
struct Invoices: UseCase {
    let services: AppServices
    let reading: OrderReading
    var store: InvoiceStore { services.invoices }

    init(_ services: AppServices) {
        self.services = services
        reading = OrderReading(services)
    }

    struct Input: Decodable, Sendable {
        var number: String?
        var kind: String?
        var issuedOn: String?
        var amountFen: Int64?
    }

    /// Refuses (404) a caller who is no party to the order, (403) a party who is not its merchant.
    func checkMerchant(of orderId: String, by actor: Identity) async throws {
        try await database.read { db in _ = try await merchantsOrder(orderId, by: actor, lock: false, in: db) }
    }

    private func merchantsOrder(_ id: String, by actor: Identity, lock: Bool, in db: any SQLDatabase) async throws -> Order {
        let (order, party) = try await reading.visible(id, to: actor, lock: lock, in: db)
        guard party == .merchant else {
            throw DomainError(.forbidden, code: "forbidden", detail: "an order's invoice is recorded by its merchant")
        }
        return order
    }

    /// At most this many invoices an order (each replacement is kept, superseded).
    static let perOrderLimit = 20

    /// Records the order's invoice; a current one before it becomes `superseded`. Sending the
    /// current invoice again changes nothing (no new row, nobody told again).
    func record(_ orderId: String, _ input: Input, by actor: Identity) async throws -> InvoiceDTO.Output {
        try await database.write { db in
            let order = try await merchantsOrder(orderId, by: actor, lock: true, in: db)
            // Read after the order's lock: invoices of one order are ordered by this time.
            let now = clock.now
            guard InvoiceRules.invoicedStatuses.contains(order.status) else {
                throw DomainError.invalidTransition(current: order.status.rawValue, action: "record an invoice")
            }
            let net = QuotaRules.netFen(totalFen: order.totalFen, approvedRefundFen: order.refundedFen)
            let problems = InvoiceRules.problems(
                number: input.number, kind: input.kind, issuedOn: input.issuedOn, amountFen: input.amountFen, netFen: net,
                orderedOn: InvoiceRules.day(of: order.createdAt), today: InvoiceRules.day(of: now))
            guard problems.isEmpty, let number = input.number, let kind = input.kind.flatMap(InvoiceKind.init(rawValue:)),
                let issuedOn = input.issuedOn.flatMap(CalendarDate.init)?.text, let amountFen = input.amountFen
            else { throw DomainError.validation(problems.map { FieldError($0.field, $0.message) }) }
            if let current = try await store.current(orderId: order.id, in: db), current.number == number, current.kind == kind,
                current.issuedOn == issuedOn, current.amountFen == amountFen
            {
                return InvoiceDTO.Output(current)
            }
            guard try await store.count(orderId: order.id, in: db) < Self.perOrderLimit else {
                throw DomainError.conflict(
                    "an order keeps at most \(Self.perOrderLimit) invoices; ask the platform", code: "invoice_limit_reached")
            }
            try await store.supersede(orderId: order.id, at: now, in: db)
            let invoice = Invoice(
                id: ids.next(), orderId: order.id, number: number, kind: kind, issuedOn: issuedOn, amountFen: amountFen,
                status: .current, sha256: nil, fileSize: nil, recordedBy: actor.userId, createdAt: now, supersededAt: nil)
            try await store.insert(invoice, in: db)
            try await audit.append(
                AuditEvent(
                    actor, "order.invoice", .order(order.id),
                    ["number": number, "kind": kind.rawValue, "issuedOn": issuedOn, "amountFen": amountFen]),
                in: db)
            return InvoiceDTO.Output(invoice)
        }
    }

    /// Refuses, before a file is streamed, an upload with no current invoice to attach to.
    func checkAttachable(_ orderId: String, by actor: Identity) async throws {
        try await database.read { db in
            let order = try await merchantsOrder(orderId, by: actor, lock: false, in: db)
            guard try await store.current(orderId: order.id, in: db) != nil else {
                throw DomainError.conflict("record the invoice before its file", code: "invoice_missing")
            }
        }
    }

    /// Attaches the stored PDF to the order's current invoice (409 `invoice_missing` without one);
    /// a PDF it replaces is removed once nothing refers to it.
    func attach(_ stored: UploadStore.Stored, to orderId: String, by actor: Identity) async throws -> InvoiceDTO.Output {
        let (output, replaced) = try await uploads.recording(stored, database: database) { db in
            let order = try await merchantsOrder(orderId, by: actor, lock: true, in: db)
            guard var invoice = try await store.current(orderId: order.id, in: db) else {
                throw DomainError.conflict("record the invoice before its file", code: "invoice_missing")
            }
            let replaced = invoice.sha256
            try await store.attach(invoiceId: invoice.id, sha256: stored.sha256, size: stored.size, in: db)
            (invoice.sha256, invoice.fileSize) = (stored.sha256, stored.size)
            try await audit.append(
                AuditEvent(actor, "order.invoice_file", .order(order.id), ["sha256": stored.sha256, "size": stored.size]), in: db)
            return (InvoiceDTO.Output(invoice), replaced)
        }
        if let replaced, replaced != stored.sha256 {
            await uploads.removeIfUnreferenced(sha256: replaced, database: database)
        }
        return output
    }

    /// The PDF of the order's invoice (its current one, else its latest), for the order's parties.
    func file(of orderId: String, for actor: Identity) async throws -> (Invoice, ByteBuffer) {
        let invoice = try await database.read { db -> Invoice in
            let (order, _) = try await reading.visible(orderId, to: actor, in: db)
            guard let invoice = try await store.latest(orderIds: [order.id], in: db)[order.id], invoice.sha256 != nil else {
                throw DomainError.notFound("invoice file")
            }
            return invoice
        }
        guard let sha256 = invoice.sha256 else { throw DomainError.notFound("invoice file") }
        return (invoice, try await uploads.read(sha256: sha256))
    }
}

/// What the invoice routes answer (API.md "Orders": the invoice object).
enum InvoiceDTO {
    struct Output: Encodable, Sendable {
        var number: String
        var kind: InvoiceKind
        /// The date on the invoice (YYYY-MM-DD) and its amount.
        var issuedOn: String
        var amountFen: Int64
        var status: InvoiceStatus
        /// The PDF's content address when one is attached (`GET …/invoice/file` serves it).
        @NullEncoded var fileId: String?
        @NullEncoded var fileSize: Int64?
        var recordedAt: String
        @NullEncoded var supersededAt: String?

        init(_ invoice: Invoice) {
            number = invoice.number
            kind = invoice.kind
            issuedOn = invoice.issuedOn
            amountFen = invoice.amountFen
            status = invoice.status
            fileId = invoice.sha256
            fileSize = invoice.fileSize
            recordedAt = invoice.createdAt.rfc3339
            supersededAt = invoice.supersededAt?.rfc3339
        }
    }
}

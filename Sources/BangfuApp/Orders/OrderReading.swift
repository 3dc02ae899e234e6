import Foundation
import SQLKit

/// Orders and refunds as the caller may see them (API.md "Orders"): a buyer its organization's,
/// a merchant its own, an admin all; anyone else is told an order does not exist.
struct OrderReading: UseCase {
    let services: AppServices
    var store: OrderStore { services.orders }

    init(_ services: AppServices) {
        self.services = services
    }

    /// A page of the caller's orders, newest first, optionally of one status.
    /// `invoiceMissing`: only orders that have shipped and have no current invoice (a merchant's
    /// invoices to write).
    func orders(for actor: Identity, status: OrderStatus?, invoiceMissing: Bool = false, paging: Paging) async throws
        -> Page<OrderDTO.Output>
    {
        let after = try paging.position.map(Paging.timeAndId)
        typealias Read = ([Order], [String: [OrderItem]], [String: String], [String: Invoice], [String: Rating])
        let (orders, items, names, invoices, ratings) = try await database.read { db -> Read in
            guard var query = try await scope(actor, in: db) else { return ([], [:], [:], [:], [:]) }
            query.status = status
            query.invoiceMissing = invoiceMissing
            let orders = try await store.orders(query, after: after, limit: paging.fetchLimit, in: db)
            let shown = orders.prefix(paging.limit)
            return (
                orders, try await store.items(orderIds: shown.map(\.id), in: db),
                try await buyers.names(organizationIds: shown.map(\.organizationId), in: db),
                try await services.invoices.latest(orderIds: shown.map(\.id), in: db),
                try await services.ratings.ratings(orderIds: shown.map(\.id), in: db)
            )
        }
        return Page(orders, paging, tag: "orders", position: { Paging.timeAndId($0.createdAt, $0.id) }) {
            OrderDTO.Output(
                $0, organizationName: names[$0.organizationId] ?? "", items: items[$0.id] ?? [], invoice: invoices[$0.id],
                rating: ratings[$0.id])
        }
    }

    /// A page of the refunds of the caller's orders (a merchant's queue to decide, a buyer
    /// organization's history), or all of them for an admin; newest first.
    func refunds(for actor: Identity, status: RefundStatus?, paging: Paging) async throws
        -> Page<OrderDTO.QueuedRefundOutput>
    {
        let after = try paging.position.map(Paging.timeAndId)
        let (refunds, items) = try await database.read { db -> ([OrderStore.QueuedRefund], [String: [OrderItem]]) in
            guard let filter = try await scope(actor, in: db) else { return ([], [:]) }
            let refunds = try await store.refunds(filter, status: status, after: after, limit: paging.fetchLimit, in: db)
            return (refunds, try await store.items(orderIds: refunds.prefix(paging.limit).map(\.order.id), in: db))
        }
        return Page(refunds, paging, tag: "refunds", position: { Paging.timeAndId($0.refund.createdAt, $0.refund.id) }) {
            OrderDTO.QueuedRefundOutput($0, items: items[$0.order.id] ?? [])
        }
    }

    /// One order in full, with its history and refunds.
    func order(_ id: String, for actor: Identity) async throws -> OrderDTO.Output {
        try await database.read { db in
            let (order, _) = try await visible(id, to: actor, in: db)
            return try await detail(order, in: db)
        }
    }

    /// Refuses (404) an order the caller is no party to, without locking: the check a step makes
    /// before it reads its body, so a stranger learns nothing from a 422.
    func checkVisible(_ id: String, to actor: Identity) async throws {
        _ = try await database.read { db in try await visible(id, to: actor, in: db) }
    }

    /// The orders a caller may see: its organization's (buyer), its own (merchant), all (admin);
    /// nil when a buyer or merchant has no organization or merchant yet.
    func scope(_ actor: Identity, in db: any SQLDatabase) async throws -> OrderStore.Filter? {
        var filter = OrderStore.Filter()
        switch actor.role {
        case .buyer:
            guard let organization = try await buyers.organization(memberId: actor.userId, in: db) else { return nil }
            filter.organizationId = organization.id
        case .merchant:
            guard let merchant = try await merchants.merchant(ownerId: actor.userId, in: db) else { return nil }
            filter.merchantId = merchant.id
        default: break
        }
        return filter
    }

    func detail(_ order: Order, in db: any SQLDatabase) async throws -> OrderDTO.Output {
        try await OrderDetails(orders: store, buyers: buyers, invoices: services.invoices, ratings: services.ratings).detail(order, in: db)
    }

    /// The order and the caller's part in it: a buyer of its organization, its merchant, or an
    /// admin. Anyone else is told it does not exist.
    func visible(_ id: String, to actor: Identity, lock: Bool = false, in db: any SQLDatabase) async throws -> (Order, OrderParty) {
        guard let order = try await store.order(id: id, lock: lock, in: db) else { throw DomainError.notFound("order") }
        switch actor.role {
        case .admin: return (order, .admin)
        case .buyer:
            if let membership = try await buyers.membership(userId: actor.userId, in: db),
                membership.organization.id == order.organizationId
            {
                return (order, membership.role == .contractor ? .contractor : .buyer)
            }
        case .merchant:
            if try await merchants.merchant(ownerId: actor.userId, in: db)?.id == order.merchantId {
                return (order, .merchant)
            }
        default: break
        }
        throw DomainError.notFound("order")
    }

    /// The refund and its order if the caller is a party to the order; otherwise 404 for the refund.
    func refundVisible(_ id: String, to actor: Identity, lock: Bool = false, in db: any SQLDatabase) async throws
        -> (Refund, Order, OrderParty)
    {
        guard let refund = try await store.refund(id: id, in: db) else { throw DomainError.notFound("refund") }
        do {
            let (order, party) = try await visible(refund.orderId, to: actor, lock: lock, in: db)
            return (refund, order, party)
        } catch let error as DomainError where error.code == "not_found" {
            throw DomainError.notFound("refund")
        }
    }

    func checkRefundVisible(_ id: String, to actor: Identity) async throws {
        _ = try await database.read { db in try await refundVisible(id, to: actor, in: db) }
    }
}

import Foundation
import SQLKit

/// An order as `GET /api/v1/orders/{id}` shows it: its organization's name, items, history and
/// refunds. The order routes answer it, and a webhook event carries it as its `data`.
struct OrderDetails: Sendable {
    let orders: OrderStore
    let buyers: BuyerStore
    let invoices: InvoiceStore
    let ratings: RatingStore

    func detail(_ order: Order, in db: any SQLDatabase) async throws -> OrderDTO.Output {
        OrderDTO.Output(
            order,
            organizationName: try await buyers.names(organizationIds: [order.organizationId], in: db)[order.organizationId] ?? "",
            items: try await orders.items(orderIds: [order.id], in: db)[order.id] ?? [],
            events: try await HistoryStore.orders.records(ownerId: order.id, in: db),
            refunds: try await orders.refunds(orderId: order.id, in: db),
            invoice: try await invoices.latest(orderIds: [order.id], in: db)[order.id],
            rating: try await ratings.rating(orderId: order.id, in: db))
    }
}

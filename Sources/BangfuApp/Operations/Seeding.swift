import Foundation

/// Filling an empty database: the demo marketplace (`bangfu serve --demo`) and the synthetic
/// benchmark data (`bangfu seed`). Each answers the sentence the command prints.
struct Seeding: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// The demo marketplace, into an empty database only: with a history of two canteens
    /// (`seed-b1`, `seed-b2`, their purchasers `seed-b1-p`…, the finance officer `seed-finance`)
    /// whose settled orders have invoices and, two in three, ratings, so a first start shows them.
    func loadDemo(password: String) async throws -> String {
        switch try await DemoLoader(services: services).loadDemo(password: password) {
        case .loaded(let merchants, let products):
            try await BuyerSeeder(services: services).seed(count: Self.demoCanteens, password: password, budgetFen: 300_000_000)
            try await OrderSeeder(services: services).seed(orders: Self.demoOrders)
            return "loaded demo data: \(merchants) merchants, \(products) products, \(Self.demoOrders) settled orders"
        case .skippedNotEmpty: return "demo data not loaded: the database already holds data"
        }
    }

    static let (demoCanteens, demoOrders) = (2, 30)

    /// A synthetic catalog for benchmarks, and `buyers` verified organizations with plans (buyer
    /// users `seed-b1`… with `buyerPassword`), into an empty database only.
    func seed(
        products: Int, merchants: Int, buyers: Int, buyerPassword: String, settledOrders: Int, progress: Progress = .silent
    ) async throws -> String {
        switch try await DemoLoader(services: services).seed(products: products, merchants: merchants, progress: progress) {
        case .loaded(let merchants, let products):
            try await BuyerSeeder(services: services).seed(count: buyers, password: buyerPassword, progress: progress)
            try await OrderSeeder(services: services).seed(orders: settledOrders, progress: progress)
            return "seeded \(merchants) merchants, \(products) products and \(buyers) buyer organizations"
                + (settledOrders > 0 ? " with \(settledOrders) settled orders" : "")
        case .skippedNotEmpty: return "not seeded: the database already holds data"
        }
    }
}

import Foundation

/// Filling an empty database: the demo marketplace (`bangfu serve --demo`) and the synthetic
/// benchmark data (`bangfu seed`). Each answers the sentence the command prints.
struct Seeding: UseCase {
    let services: AppServices

    init(_ services: AppServices) {
        self.services = services
    }

    /// The demo marketplace, into an empty database only.
    func loadDemo(password: String) async throws -> String {
        switch try await DemoLoader(services: services).loadDemo(password: password) {
        case .loaded(let merchants, let products): "loaded demo data: \(merchants) merchants, \(products) products"
        case .skippedNotEmpty: "demo data not loaded: the database already holds data"
        }
    }

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

import Foundation

/// A use case: a domain's operations over the app's dependencies, knowing nothing of HTTP.
///
/// It keeps the one `AppServices` it is built with and reads each dependency by the name
/// `AppServices` gives it (`database`, `clock`, `audit`, `orders`, …), so a use case declares only
/// what it names differently (`var store: OrderStore { services.orders }`) and its own parts (a
/// `WorkflowStep`). Building one costs a copy of `AppServices`; controllers build theirs once.
protocol UseCase: Sendable {
    var services: AppServices { get }
}

extension UseCase {
    var configuration: AppConfiguration { services.configuration }
    var database: any Database { services.database }
    var clock: AppClock { services.clock }
    var ids: IDGenerator { services.ids }
    var audit: AuditStore { services.audit }

    // The stores, by the domain that owns them.
    var reference: ReferenceStore { services.reference }
    var products: ProductStore { services.products }
    var merchants: MerchantStore { services.merchants }
    var uploads: UploadStore { services.uploads }
    var certification: CertificationStore { services.certification }
    var buyers: BuyerStore { services.buyers }
    var orders: OrderStore { services.orders }
    var reports: ReportStore { services.reports }
    var alerts: AlertStore { services.alerts }

    // What some use cases share with the HTTP side.
    var accounts: AccountService { services.accounts }
    var passwords: PasswordHasher { services.passwords }
    var signingKeys: SigningKeys { services.signingKeys }
    var issuer: CertificateIssuer { services.issuer }
    var placements: PlacementQueue { services.placements }
}

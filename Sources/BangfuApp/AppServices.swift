import Foundation
import Logging
import Prometheus
import SQLKit

/// The dependencies every controller receives, built once in `buildApplication`: no globals.
public struct AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: any Database
    let clock: AppClock
    let ids: IDGenerator
    let audit: AuditStore
    let notifications: NotificationStore
    let inboxHub: InboxHub
    let notifier: Notifier
    let mail: MailStore
    let reference: ReferenceStore
    let regions = RegionStore()
    let filings = FilingStore()
    let invoices: InvoiceStore
    let ratings: RatingStore
    let accounts: AccountService
    let passwords: PasswordHasher
    let metrics: HTTPMetrics
    let merchants: MerchantStore
    let uploads: UploadStore
    let products: ProductStore
    let catalogFeed: CatalogFeed
    let catalogShedder: LoadShedder
    let detailShedder: LoadShedder
    let certification: CertificationStore
    let webhooks: WebhookStore
    let signingKeys: SigningKeys
    let issuer: CertificateIssuer
    let buyers: BuyerStore
    let orders: OrderStore
    let placements: PlacementQueue
    let reports: ReportStore
    let alerts: AlertStore
    let rateLimiter: RateLimiter

    public init(configuration: AppConfiguration, database: any Database, registry: PrometheusCollectorRegistry) {
        let clock = configuration.clock
        let ids = configuration.ids
        let notifications = NotificationStore()
        let inboxHub = InboxHub()
        let buyers = BuyerStore(engine: database.engine)
        let orders = OrderStore(engine: database.engine)
        let certification = CertificationStore(engine: database.engine)
        let webhooks = WebhookStore(engine: database.engine)
        let (invoices, ratings) = (InvoiceStore(), RatingStore(engine: database.engine))
        let outbox = WebhookOutbox(
            store: webhooks, orders: orders, details: OrderDetails(orders: orders, buyers: buyers, invoices: invoices, ratings: ratings), certification: certification,
            ids: ids, minimumRatioBp: configuration.minimumReservedRatioBp)
        let mail = configuration.mail.map { _ in MailOutbox(store: MailStore(engine: database.engine), ids: ids) }
        let notifier = Notifier(store: notifications, ids: ids, hub: inboxHub, webhooks: outbox, mail: mail)
        let audit = AuditStore(clock: clock, notifier: notifier)
        let reference = ReferenceStore(clock: clock)
        let passwords = PasswordHasher(cost: configuration.bcryptCost, pool: configuration.passwordPool ?? PasswordHasher.sharedPool)
        let throttle = SignInThrottle()
        self.configuration = configuration
        self.database = database
        self.clock = clock
        self.ids = ids
        self.audit = audit
        self.notifications = notifications
        self.inboxHub = inboxHub
        self.notifier = notifier
        self.mail = MailStore(engine: database.engine)
        self.reference = reference
        self.passwords = passwords
        self.metrics = HTTPMetrics(registry: registry)
        self.merchants = MerchantStore(engine: database.engine)
        self.uploads = UploadStore(directory: configuration.dataDirectory + "/uploads", ids: ids, engine: database.engine)
        self.products = ProductStore(engine: database.engine)
        (self.invoices, self.ratings) = (invoices, ratings)
        var catalogLogger = Logger(label: "bangfu")
        catalogLogger.logLevel = configuration.logLevel
        self.catalogFeed = CatalogFeed(database: database, store: products, logger: catalogLogger, metrics: metrics)
        self.catalogShedder = LoadShedder(running: configuration.catalogRunning, waiting: configuration.catalogWaiting)
        self.detailShedder = LoadShedder(running: 4 * configuration.catalogRunning, waiting: 4 * configuration.catalogWaiting)
        self.certification = certification
        self.webhooks = webhooks
        self.signingKeys = SigningKeys(directory: SigningKeyFiles.directory(configuration))
        self.issuer = CertificateIssuer(keys: signingKeys, store: certification, products: products)
        self.buyers = buyers
        self.orders = orders
        self.reports = ReportStore()
        self.alerts = AlertStore()
        self.rateLimiter = RateLimiter(perMinute: configuration.rateLimitPerMinute)
        self.placements = PlacementQueue(
            placer: Placer(
                database: database, clock: clock, ids: ids, store: orders, buyers: buyers, audit: audit, metrics: metrics))
        self.accounts = AccountService(
            database: database, users: UserStore(), sessions: SessionStore(clock: clock),
            failures: SignInFailureStore(clock: clock, ids: ids, throttle: throttle, engine: database.engine), throttle: throttle,
            reference: reference, audit: audit, passwords: passwords, clock: clock,
            sessionLifetime: configuration.sessionLifetime)
    }
}

/// Helpers that several domains' controllers share: the route groups' rate limit, and two checks
/// that belong to the catalog's reference data and to merchants (their owners may move them into
/// those domains' use cases, keeping these signatures as forwarders).
extension AppServices {
    /// An unknown county or merchant in a list's filter is a 400 naming the parameter (API.md
    /// "Conventions"), not an empty list. (The catalog checks its own filters against the names
    /// its index holds: `CatalogBrowsing`.)
    func checkFilters(countyCode: String?, merchantId: String? = nil) async throws {
        guard countyCode != nil || merchantId != nil else { return }
        let known = try await database.read { db in
            try await reference.known(countyCode: countyCode, merchantId: merchantId, in: db)
        }
        if !known.county { throw DomainError.badRequest("countyCode is not a registered county", field: "countyCode") }
        if !known.merchant { throw DomainError.badRequest("merchantId is not a merchant", field: "merchantId") }
    }

    /// The per-address rate limit for a route group (API.md: 429 with `Retry-After`).
    func rateLimited(_ when: RateLimitMiddleware.When = .always) -> RateLimitMiddleware {
        RateLimitMiddleware(limiter: rateLimiter, clock: clock, when: when)
    }
}


/// The entry points of the command line (`Sources/bangfu`), of `buildApplication` and of the tests:
/// each forwards to the use case that does the work, so `AppServices` stays the list of
/// dependencies.
extension AppServices {
    /// Applies migrations and loads `Catalog/` (idempotent; run at every start).
    public func prepare(logger: Logger) async throws {
        try await Startup(self).prepare(logger: logger)
    }

    /// Refreshes the planner's statistics where it helps (after bulk loads).
    func optimize() async throws {
        try await Startup(self).optimize()
    }

    /// The `bangfu user add` path: the same validation and audit as the HTTP route.
    public func addUser(
        username: String, password: String, role: Role, displayName: String, countyCode: String?, regionCode: String? = nil
    ) async throws -> String {
        try await UserCreation(self).add(
            username: username, password: password, role: role, displayName: displayName, countyCode: countyCode,
            regionCode: regionCode)
    }

    /// `bangfu audit verify`: recomputes the audit hash chain.
    public func verifyAudit() async throws -> (ok: Bool, events: Int64, firstBrokenSeq: Int64?) {
        let result = try await AuditTrail(self).verify()
        return (result.ok, result.events, result.firstBrokenSeq)
    }

    /// `bangfu backup`: SQLite only (PostgreSQL has pg_dump). The copy is written with mode 0600.
    public func backup(to path: String) async throws {
        try await DatabaseBackup(self).copy(to: path)
    }

    /// `bangfu serve --demo`: the demo marketplace, into an empty database only.
    public func loadDemo(password: String) async throws -> String {
        try await Seeding(self).loadDemo(password: password)
    }

    /// `bangfu seed`: a synthetic catalog for benchmarks, and `buyers` verified organizations
    /// with plans (buyer users `seed-b1`… with `buyerPassword`), into an empty database only.
    public func seed(
        products: Int, merchants: Int, buyers: Int = 0, buyerPassword: String = "bangfu-bench-2026", settledOrders: Int = 0,
        progress: Progress = .silent
    ) async throws -> String {
        try await Seeding(self).seed(
            products: products, merchants: merchants, buyers: buyers, buyerPassword: buyerPassword,
            settledOrders: settledOrders, progress: progress)
    }
}

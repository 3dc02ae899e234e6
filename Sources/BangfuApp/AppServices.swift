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
    let reference: ReferenceStore
    let accounts: AccountService
    let passwords: PasswordHasher
    let metrics: HTTPMetrics
    let merchants: MerchantStore
    let uploads: UploadStore
    let products: ProductStore
    let facetCache: FacetCache
    let catalogCache: CatalogCache
    let certification: CertificationStore
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
        let audit = AuditStore(clock: clock)
        let reference = ReferenceStore(clock: clock)
        let passwords = PasswordHasher(cost: configuration.bcryptCost)
        let throttle = SignInThrottle()
        self.configuration = configuration
        self.database = database
        self.clock = clock
        self.ids = ids
        self.audit = audit
        self.reference = reference
        self.passwords = passwords
        self.metrics = HTTPMetrics(registry: registry)
        self.merchants = MerchantStore(engine: database.engine)
        self.uploads = UploadStore(directory: configuration.dataDirectory + "/uploads", ids: ids, engine: database.engine)
        self.products = ProductStore(engine: database.engine)
        self.facetCache = FacetCache(ttl: configuration.facetCacheTTL)
        self.catalogCache = CatalogCache(ttl: configuration.catalogCacheTTL, clock: clock)
        self.certification = CertificationStore(engine: database.engine)
        self.signingKeys = SigningKeys(directory: SigningKeyFiles.directory(configuration))
        self.issuer = CertificateIssuer(keys: signingKeys, store: certification, products: products)
        self.buyers = BuyerStore(engine: database.engine)
        self.orders = OrderStore(engine: database.engine)
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

    /// Applies migrations and loads `Catalog/` (idempotent; run at every start).
    public func prepare(logger: Logger) async throws {
        let applied = try await Migrations.apply(to: database, now: clock.now)
        if !applied.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(applied)"]) }
        let data = try ReferenceData.load(FileSource.catalogFiles(configuration))
        let reference = self.reference
        let added = try await database.write { db in try await reference.load(data, in: db) }
        if added > 0 { logger.info("loaded reference data", metadata: ["rows": "\(added)"]) }
        // Idempotency keys are kept 7 days (API.md asks for at least 24 hours).
        let orders = self.orders, cutoff = clock.now.addingTimeInterval(-7 * 86400)
        try await database.write { db in try await orders.purgeKeys(before: cutoff, in: db) }
        if let kid = try await signingKeys.prepare(now: clock.now) {
            logger.notice("created the certificate signing key", metadata: ["kid": .string(kid)])
        }
        try await optimize()
    }

    /// Refreshes the planner's statistics where it helps (SQLite's `PRAGMA optimize`; PostgreSQL's
    /// autovacuum does this by itself).
    func optimize() async throws {
        guard database.engine == .sqlite else { return }
        try await database.write { db in try await db.raw("PRAGMA optimize=0x10002").run() }
    }

    /// The `bangfu user add` path: the same validation and audit as the HTTP route.
    public func addUser(username: String, password: String, role: Role, displayName: String, countyCode: String?)
        async throws -> String
    {
        guard AccountRules.isValidUsername(username) else {
            throw DomainError.invalid("username", "must be 3 to 32 characters of A-Z a-z 0-9 _ . -")
        }
        if let problem = AccountRules.passwordProblem(password) { throw DomainError.invalid("password", problem) }
        if (role == .county) != (countyCode != nil) {
            throw DomainError.invalid("countyCode", "is required for county officers and only for them")
        }
        let user = User(
            id: ids.next(), username: username, role: role, displayName: displayName, countyCode: countyCode,
            createdAt: clock.now)
        try await accounts.create(user, passwordHash: try await passwords.hash(password), actorId: nil)
        return user.id
    }

    /// An unknown county or category in a list's filter is a 400 naming the parameter (API.md
    /// "Conventions"), not an empty list.
    func checkFilters(countyCode: String?, categoryId: String? = nil, merchantId: String? = nil) async throws {
        guard countyCode != nil || categoryId != nil || merchantId != nil else { return }
        let known = try await database.read { db in
            try await reference.known(countyCode: countyCode, categoryId: categoryId, merchantId: merchantId, in: db)
        }
        if !known.county { throw DomainError.badRequest("countyCode is not a registered county", field: "countyCode") }
        if !known.category { throw DomainError.badRequest("categoryId is not a category", field: "categoryId") }
        if !known.merchant { throw DomainError.badRequest("merchantId is not a merchant", field: "merchantId") }
    }

    /// The per-address rate limit for a route group (API.md: 429 with `Retry-After`).
    func rateLimited(_ when: RateLimitMiddleware.When = .always) -> RateLimitMiddleware {
        RateLimitMiddleware(limiter: rateLimiter, clock: clock, when: when)
    }

    /// The caller's merchant, if it is active: what merchants need to change their products.
    func activeMerchant(_ user: Identity, in db: any SQLDatabase) async throws -> Merchant {
        guard let merchant = try await merchants.merchant(ownerId: user.userId, in: db) else {
            throw DomainError(.forbidden, code: "forbidden", detail: "only an approved merchant may do this")
        }
        guard merchant.status == .active else {
            throw DomainError(.forbidden, code: "forbidden", detail: "the merchant is suspended")
        }
        return merchant
    }

    public func verifyAudit() async throws -> (ok: Bool, events: Int64, firstBrokenSeq: Int64?) {
        let result = try await database.read { db in try await audit.verify(in: db) }
        return (result.ok, result.events, result.firstBrokenSeq)
    }
}

extension DomainError: CustomStringConvertible {
    public var description: String { "\(code): \(detail)" }
}

extension AppServices {
    /// `bangfu backup`: SQLite only (PostgreSQL has pg_dump). The copy is written with mode 0600.
    public func backup(to path: String) async throws {
        guard let sqlite = database as? SQLiteDatabase else {
            throw ConfigurationError("bangfu backup copies the SQLite database; on PostgreSQL use pg_dump")
        }
        try await sqlite.backup(to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}

extension AppServices {
    /// `bangfu serve --demo`: the demo marketplace, into an empty database only.
    public func loadDemo(password: String) async throws -> String {
        switch try await DemoLoader(services: self).loadDemo(password: password) {
        case .loaded(let merchants, let products): "loaded demo data: \(merchants) merchants, \(products) products"
        case .skippedNotEmpty: "demo data not loaded: the database already holds data"
        }
    }

    /// `bangfu seed`: a synthetic catalog for benchmarks, and `buyers` verified organizations
    /// with plans (buyer users `seed-b1`… with `buyerPassword`), into an empty database only.
    public func seed(
        products: Int, merchants: Int, buyers: Int = 0, buyerPassword: String = "bangfu-bench-2026", settledOrders: Int = 0
    ) async throws -> String {
        switch try await DemoLoader(services: self).seed(products: products, merchants: merchants) {
        case .loaded(let merchants, let products):
            try await BuyerSeeder(services: self).seed(count: buyers, password: buyerPassword)
            try await OrderSeeder(services: self).seed(orders: settledOrders)
            return "seeded \(merchants) merchants, \(products) products and \(buyers) buyer organizations"
                + (settledOrders > 0 ? " with \(settledOrders) settled orders" : "")
        case .skippedNotEmpty: return "not seeded: the database already holds data"
        }
    }
}

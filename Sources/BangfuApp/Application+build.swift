import BangfuResources
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Runs `body` with the services of `configuration` after migrating; for the CLI commands that
/// work on the database without serving.
public func withServices<T: Sendable>(
    configuration: AppConfiguration, migrate: Bool = true, _ body: @Sendable (AppServices) async throws -> T
) async throws -> T {
    var logger = Logger(label: "bangfu")
    logger.logLevel = configuration.logLevel
    try createDataDirectory(configuration.dataDirectory)
    let lock = try DataDirectoryLock.forServing(configuration.dataDirectory)
    defer { withExtendedLifetime(lock) {} }
    let database = try await openDatabase(
        url: configuration.databaseURL, dataDirectory: configuration.dataDirectory,
        durableCommits: configuration.durableCommits, logger: logger)
    let services = AppServices(configuration: configuration, database: database, registry: PrometheusCollectorRegistry())
    return try await withThrowingTaskGroup(of: Void.self) { group in
        if let postgres = database as? PostgresDatabase {
            group.addTask { await postgres.client.run() }
        }
        defer { group.cancelAll() }
        do {
            if migrate { try await services.prepare(logger: logger) }
            let result = try await body(services)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }
}

/// Builds the whole server: database, migrations, reference data, routes, middleware, TLS.
public func buildApplication(configuration: AppConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "bangfu")
    logger.logLevel = configuration.logLevel
    try createDataDirectory(configuration.dataDirectory)
    // Before the database is opened: a server started during a restore must not create one.
    let lock = try DataDirectoryLock.forServing(configuration.dataDirectory)
    let database = try await openDatabase(
        url: configuration.databaseURL, dataDirectory: configuration.dataDirectory,
        durableCommits: configuration.durableCommits, logger: logger)
    let services = AppServices(configuration: configuration, database: database, registry: PrometheusCollectorRegistry())
    do {
        return try makeApplication(services: services, logger: logger, lock: lock)
    } catch {
        // Nothing will run the database's service: close it here (an unreadable TLS key, say).
        await database.close()
        throw error
    }
}

/// The application over already-built services (tests reach the database through them).
func makeApplication(services: AppServices, logger: Logger, lock: DataDirectoryLock? = nil) throws
    -> Application<RouterResponder<AppRequestContext>>
{
    let configuration = services.configuration
    let router = buildRouter(services: services, logger: logger)
    let http1: HTTPServerBuilder = .http1(configuration: http1Configuration(configuration))
    var server = http1
    if configuration.tls {
        let paths = try TLSMaterial.resolve(
            certificate: configuration.tlsCertificate, key: configuration.tlsKey,
            dataDirectory: configuration.dataDirectory, now: Date())
        if paths.generated {
            logger.notice("generated a self-signed certificate", metadata: ["path": .string(paths.certificate)])
        }
        server = try .tls(http1, tlsConfiguration: TLSMaterial.serverConfiguration(paths))
    }
    var app = Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "bangfu"),
        onServerRunning: { channel in
            let scheme = configuration.tls ? "https" : "http"
            let port = channel.localAddress?.port ?? configuration.port
            logger.notice("Bangfu is serving", metadata: ["url": .string("\(scheme)://localhost:\(port)/")])
        },
        logger: logger
    )
    // Held while serving, so that `bangfu restore` refuses to replace the database under us.
    let lock = try lock ?? DataDirectoryLock.forServing(configuration.dataDirectory)
    app.addServices(DatabaseService(database: services.database, lock: lock))
    if let port = configuration.metricsPort {
        app.addServices(metricsApplication(services: services, port: port, logger: logger))
    }
    if let backups = configuration.backups {
        guard services.database.engine == .sqlite else {
            throw OperatorError(
                "--backup-dir takes SQLite copies; on PostgreSQL schedule pg_dump instead", exitCode: ExitCodes.configuration)
        }
        app.addServices(BackupService(services: services, settings: backups, logger: logger))
    }
    if let interval = configuration.reminderInterval {
        app.addServices(ReminderService(reminders: Reminders(services), interval: interval, logger: logger))
    }
    if let mail = configuration.mail, let interval = mail.pollInterval {
        let mailer = Mailer(
            services: services, transport: CommandMailTransport(command: mail.command), from: mail.from, logger: logger)
        app.addServices(MailService(mailer: mailer, interval: interval))
    }
    if let interval = configuration.webhooks.pollInterval {
        app.addServices(WebhookDeliveryService(services: services, interval: interval, logger: logger))
    }
    app.addServices(CatalogFeedService(feed: services.catalogFeed, clock: services.clock, logger: logger))
    app.beforeServerStarts {
        try await services.prepare(logger: logger)
        try await CompletionRuleChange(services).apply(logger: logger)
        if configuration.demo {
            let outcome = try await services.loadDemo(password: configuration.demoPassword)
            logger.notice("\(outcome)")
        }
        // Ready only once the catalog index holds every product (progress shown on large catalogs).
        let printer = ProgressPrinter.standardError()
        try await services.catalogFeed.prepare(
            progress: Progress { step, done, total in
                if total >= 10_000 { printer.report(step, done: done, total: total) }
            })
    }
    return app
}

/// `/metrics` alone, over plain HTTP on 127.0.0.1 (`--metrics-port`): for a Prometheus on this
/// machine when the main port is behind a proxy.
func metricsApplication(services: AppServices, port: Int, logger: Logger) -> some Service {
    let router = Router(context: BasicRequestContext.self)
    router.get("/metrics") { _, _ in services.metricsResponse() }
    return Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "bangfu-metrics"),
        logger: logger)
}

/// Header limits (16 KiB a field, 32 KiB in all, 100 fields) and the slow-client deadlines.
func http1Configuration(_ configuration: AppConfiguration) -> HTTP1Channel.Configuration {
    func amount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
    let (head, body) = (amount(configuration.headTimeout), amount(configuration.bodyTimeout))
    return HTTP1Channel.Configuration(
        additionalChannelHandlers: [RequestDeadlineHandler(headTimeout: head, bodyTimeout: body)],
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
}

/// The routes and middleware, separate from the server so tests can inspect the route table.
func buildRouter(services: AppServices, logger: Logger) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ClientAddressMiddleware(trusted: services.configuration.trustedProxies))
    router.add(middleware: RequestLogMiddleware(metrics: services.metrics, tls: services.configuration.tls, ids: services.ids))
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: AuthMiddleware(sessions: services.accounts.sessions, database: services.database))
    if let directory = services.configuration.publicDirectory {
        router.add(
            middleware: StaticFilesMiddleware(files: FileMiddleware(directory, searchForIndexHtml: true, logger: logger)))
    } else {
        router.add(middleware: EmbeddedFilesMiddleware(files: EmbeddedFiles.publicFiles))
    }
    OperationsController(services: services).addRoutes(to: router)
    AccountsController(services: services, creation: UserCreation(services), profiles: AccountProfile(services))
        .addRoutes(to: router)
    AuditController(services: services, trail: AuditTrail(services)).addRoutes(to: router)
    MerchantApplicationsController(services: services, onboarding: MerchantOnboarding(services)).addRoutes(to: router)
    // The catalog and the routes whose changes alter what it shows (orders and refunds move stock
    // and sales, ratings `sort=rating`); the catalog index follows their changes through the
    // database's change feed, not through these routes.
    let catalog = router.group()
    ReferenceController(records: ReferenceRecords(services)).addRoutes(to: catalog)
    MerchantsController(services: services, directory: MerchantDirectory(services)).addRoutes(to: catalog)
    ProductsController(
        services: services, editing: ProductEditing(services), images: ProductImages(services),
        browsing: CatalogBrowsing(services)
    ).addRoutes(to: catalog)
    CertificationController(services: services, certifying: Certifying(services)).addRoutes(to: catalog)
    CertificatesController(services: services, registry: CertificateRegistry(services)).addRoutes(to: catalog)
    RegionsController(regions: Regions(services)).addRoutes(to: router)
    BuyerOrganizationsController(services: services, organizations: BuyerOrganizations(services)).addRoutes(to: router)
    FilingsController(services: services, filings: Filings(services), bulletins: Bulletins(services)).addRoutes(to: router)
    InvoicesController(services: services, invoices: Invoices(services)).addRoutes(to: router)
    RatingsController(ratings: Ratings(services)).addRoutes(to: catalog)
    OrdersController(checkout: Checkout(services), reading: OrderReading(services), workflow: OrderWorkflow(services))
        .addRoutes(to: catalog)
    ReportsController(services: services, reporting: SalesReporting(services), alerting: AlertReporting(services))
        .addRoutes(to: router)
    NotificationsController(inbox: Inbox(services)).addRoutes(to: router)
    WebhooksController(services: services, webhooks: Webhooks(services)).addRoutes(to: router)
    return router
}

/// Runs the database's own service (PostgreSQL's connection pool) and closes the database after
/// the server has drained, on SIGTERM or SIGINT.
struct DatabaseService: Service {
    let database: any Database
    /// The data directory's lock, held as long as this service lives.
    let lock: DataDirectoryLock?

    func run() async throws {
        if let postgres = database as? PostgresDatabase {
            // The pool runs until the server has drained and the group cancels it.
            await cancelWhenGracefulShutdownOrCancellation { await postgres.client.run() }
            lock?.release()
            return
        }
        try? await gracefulShutdown()
        // Closed in a task of its own: when the group is cancelled (a failed start, a test that
        // threw) the close must still run to its end rather than see the cancellation.
        let database = self.database
        await Task { await database.close() }.value
        lock?.release()
    }
}

/// The data directory holds the database, keys and TLS material: owner-only (0700) when created.
func createDataDirectory(_ path: String) throws {
    try checkDataDirectory(path)
    if !FileManager.default.fileExists(atPath: path) {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}

/// Runs `body` until graceful shutdown (or cancellation) begins, then cancels it.
private func cancelWhenGracefulShutdownOrCancellation(_ body: @escaping @Sendable () async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await body() }
        group.addTask { try? await gracefulShutdown() }
        await group.next()
        group.cancelAll()
    }
}

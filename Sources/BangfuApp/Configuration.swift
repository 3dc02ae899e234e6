import Foundation
import Logging
import NIOPosix

/// Everything an operator can set. `bangfu` fills it once, through `ConfigurationReader`, from its
/// options, the `BANGFU_*` variables and the `--config` file (README "Configuration"); tests build
/// it directly. The initial values here are the defaults.
public struct AppConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8443
    public var dataDirectory = "./data"
    /// `postgres://...` for PostgreSQL; nil for the embedded SQLite file in `dataDirectory`.
    public var databaseURL: String?
    public var tls = true
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The web UI and OpenAPI document; nil: the copy built into the binary (`--public-dir`).
    public var publicDirectory: String?
    /// The reference data; nil: the copy built into the binary (`--catalog-dir`).
    public var catalogDirectory: String?
    public var bcryptCost: UInt8 = 10
    /// The threads bcrypt runs on (started); nil: `PasswordHasher.sharedPool`, one a core for the
    /// whole process. A test whose client cannot wait gives its server a pool of its own.
    public var passwordPool: NIOThreadPool?
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// County levels whose merchants and products the platform admits: both for a provincial
    /// platform (the default), `national` only for an 832-style national one.
    public var eligibleCountyLevels: Set<CountyLevel> = [.national, .provincial]
    /// Catalog listings and searches running at once, and waiting their turn; past both a read is
    /// refused with 503 and `Retry-After` (`LoadShedder`). Product details, far cheaper, take turns
    /// of their own (four times as many), so a burst of listings never queues a detail.
    public var catalogRunning = 8
    public var catalogWaiting = 24
    /// How long one inbox stream (`GET /api/v1/notifications/stream`) stays open before the
    /// server ends it; the client reconnects with `Last-Event-ID` and misses nothing.
    public var notificationStreamDuration: Duration = .seconds(300)
    /// How often an open inbox stream sends a keep-alive comment and rereads the inbox (which also
    /// brings notifications written by other processes).
    public var notificationHeartbeat: Duration = .seconds(15)
    /// How often the server sends the reminders that have fallen due (nil: never).
    public var reminderInterval: Duration? = .seconds(600)
    /// E-mail notifications (`--mail-command`, `--mail-from`); nil: no e-mail.
    public var mail: MailCommand?
    /// How webhooks are delivered (`--webhook-*`).
    public var webhooks = WebhookSettings()
    /// Where the certificate signing keys live; nil: `<dataDirectory>/keys`. Several processes
    /// on one PostgreSQL database must share it.
    public var keysDirectory: String?
    /// How long a certificate is valid when the admin does not say (`validDays`).
    public var certificateValidDays: Int64 = 365
    /// The policy minimum of a quota plan's reserved ratio, in basis points (1000 = 10 %).
    public var minimumReservedRatioBp: Int64 = 1000
    /// Payment waits for the merchant's current invoice (`invoice_missing`; `--require-invoice`).
    public var requireInvoice = true
    /// Whether `completedFen` waits for the rating (`--completion-rule`; SPEC "Ratings").
    public var completionRule = CompletionRule.settled
    /// Alert thresholds (days).
    public var alerts = AlertSettings()
    /// Load `Catalog/demo.json` at start when the database is empty (`--demo`).
    public var demo = false
    /// The password of every demo user.
    public var demoPassword = "bangfu-demo-2026"
    /// Requests a minute per client address on the expensive routes (search, CSV, reports,
    /// uploads, registration, audit verification); 0 turns the limit off (`--rate-limit`).
    public var rateLimitPerMinute = 600
    /// A request's head must arrive within this long of the connection opening or of the previous
    /// response, its body within `bodyTimeout` of the head; slower connections are closed.
    public var headTimeout: Duration = .seconds(20)
    public var bodyTimeout: Duration = .seconds(120)
    /// SQLite: fsync the WAL at every commit (`synchronous=FULL`), so an acknowledged change
    /// survives a power loss, not only a killed process (`--durability normal` turns it off).
    public var durableCommits = true
    /// Reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`); none by default.
    public var trustedProxies: [CIDR] = []
    /// Also serve `/metrics` over plain HTTP on 127.0.0.1 at this port (`--metrics-port`).
    public var metricsPort: Int?
    /// Consistent SQLite copies taken while serving (`--backup-dir`, `--backup-every`,
    /// `--backup-keep`); nil: none.
    public var backups: BackupSettings?
    public var logLevel: Logger.Level = .info
    /// `text`, or `json` for one JSON object a line (`JSONLogHandler`).
    public var logFormat: LogFormat = .text
    public var clock: AppClock = .system
    public var ids: IDGenerator = .standard

    public init() {}
}

/// How the server sends e-mail: a sendmail-compatible program that reads the message, headers
/// included, on standard input and takes the recipients from them (`msmtp -t`).
public struct MailCommand: Sendable {
    /// The program and its arguments.
    public var command: [String]
    /// The `From` address.
    public var from: String
    /// How often the mail service looks for due messages when it has nothing to send; nil: no
    /// service (tests send with `Mailer.pass`).
    public var pollInterval: Duration? = .seconds(1)

    public init(command: [String], from: String) {
        self.command = command
        self.from = from
    }
}

/// Webhook delivery (API.md "Notifications and webhooks").
public struct WebhookSettings: Sendable {
    /// Let webhooks reach loopback, private and other non-public addresses: for testing only
    /// (`--webhook-allow-private`).
    public var allowPrivate = false
    /// The first retry's delay; each further one doubles it (`--webhook-retry-seconds`).
    public var retryBase: Duration = .seconds(60)
    /// A PEM file of extra trusted roots for the receivers' certificates (`--webhook-ca-file`).
    public var trustedRoots: String?
    /// How often the delivery service looks for due deliveries when it has nothing to send; nil:
    /// no delivery service (tests send with `WebhookDelivery.pass`).
    public var pollInterval: Duration? = .milliseconds(500)
    /// How a webhook's host becomes addresses to check.
    public var resolver: HostResolver = .system

    public init() {}
}

/// How `bangfu` writes its log lines (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

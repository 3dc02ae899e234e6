import ArgumentParser
import BangfuApp
import Foundation
import Logging
import Synchronization

/// Options every command shares. Every setting also comes from a `BANGFU_*` environment variable
/// and from the `--config` file (README "Configuration"): `ConfigurationReader` reads them once,
/// the command line first, then the environment, the file and the defaults.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: "A JSON file of settings keyed by the long option names, e.g. {\"port\": 8080} (BANGFU_CONFIG); options and BANGFU_* variables win over it.")
    var config: String?

    @Option(name: .long, help: "Data directory: SQLite database, keys, TLS material (BANGFU_DATA_DIR, default ./data).")
    var dataDir: String?

    @Option(name: .long, help: "postgres://user:pass@host:5432/db to use PostgreSQL (BANGFU_DATABASE); default: SQLite in the data directory.")
    var database: String?

    @Option(name: .long, help: "Directory of the certificate signing keys (BANGFU_KEYS_DIR, default <data dir>/keys).")
    var keysDir: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error (BANGFU_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(name: .long, help: "Log format: text, or json for one JSON object a line (BANGFU_LOG_FORMAT, default text).")
    var logFormat: String?

    /// The configuration, read once from these options, the command's own `options` (given by
    /// long name), the environment and the config file; logging is set up to match. A malformed
    /// value from any source fails with one line naming it (exit 78).
    func configuration(_ options: [String: [String]] = [:]) async throws -> AppConfiguration {
        let given = options.merging(Self.given([
            "config": config, "data-dir": dataDir, "database": database, "keys-dir": keysDir, "log-level": logLevel,
            "log-format": logFormat,
        ])) { $1 }
        let configuration = try await ConfigurationReader.read(commandLine: given, environment: ProcessInfo.processInfo.environment)
        setUpLogging(configuration.logFormat)
        return configuration
    }

    /// The options that were given, as `ConfigurationReader` takes them.
    static func given(_ options: [String: String?]) -> [String: [String]] {
        options.compactMapValues { $0.map { [$0] } }
    }
}

/// Whether logging is set up: `LoggingSystem` takes one bootstrap a process.
private let loggingIsSetUp = Mutex(false)

/// `--log-format json`: one JSON object a line; `text` keeps swift-log's own handler.
func setUpLogging(_ format: LogFormat) {
    let first = loggingIsSetUp.withLock { done in
        defer { done = true }
        return !done
    }
    if first, format == .json {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
    }
}

/// Runs the command; a failure that is not about the command line prints one line naming what
/// failed and what to do, and exits with its code (README "Commands": the exit codes).
@main
enum Entry {
    static func main() async {
        // Logging is set up with the configuration (`StorageOptions.configuration`), before
        // anything logs.
        var command: any ParsableCommand
        do {
            command = try Bangfu.parseAsRoot()
        } catch {
            Bangfu.exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error
            where error is ExitCode || error is CleanExit || error is ValidationError
            // `help`, `--help` and the like: swift-argument-parser's own (internal) errors.
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
        {
            Bangfu.exit(withError: error)
        } catch {
            let failure = OperatorError.describing(error)
            let line = failure.message.split(whereSeparator: \.isNewline).joined(separator: " ")
            FileHandle.standardError.write(Data("bangfu: \(line)\n".utf8))
            exit(failure.exitCode)
        }
    }
}

struct Bangfu: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bangfu",
        abstract: "Bangfu (帮扶): a consumption-support marketplace server.",
        subcommands: [
            Serve.self, Migrate.self, UserCommand.self, Backup.self, Restore.self, AuditCommand.self, KeysCommand.self,
            CertificateCommand.self, Check.self, Seed.self,
        ],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve HTTPS (default https://localhost:8443).")

    @OptionGroup var storage: StorageOptions
    @Option(help: "Address to bind (BANGFU_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Port (BANGFU_PORT, default 8443).") var port: String?
    @Option(help: "PEM certificate chain (BANGFU_TLS_CERT); default: self-signed in the data directory.") var tlsCert: String?
    @Option(help: "Days without an order after which a listed product is slow-moving (BANGFU_SLOW_MOVING_DAYS, default 30).")
    var slowMovingDays: String?
    @Option(help: "Days after acceptance a payment is due (BANGFU_PAYMENT_DUE_DAYS, default 30).")
    var paymentDueDays: String?
    @Option(help: "Days before expiry a certificate alerts (BANGFU_CERTIFICATE_EXPIRING_DAYS, default 30).")
    var certificateExpiringDays: String?
    @Option(help: "Policy minimum of a quota plan's reserved ratio in basis points (BANGFU_MINIMUM_RESERVED_RATIO_BP, default 1000 = 10%).")
    var minimumReservedRatioBp: String?
    @Option(help: "The yearly filing's deadline as MM-DD, UTC+8 (BANGFU_FILING_DEADLINE, default 03-31).")
    var filingDeadline: String?
    @Option(help: "Refuse payment until the merchant records a current invoice: true or false (BANGFU_REQUIRE_INVOICE, default true).")
    var requireInvoice: String?
    @Option(help: "When a purchase counts as completed: settled or settled_and_rated (BANGFU_COMPLETION_RULE, default settled).")
    var completionRule: String?
    @Option(help: "A unit price this many percent above its category's median alerts as price_outlier (BANGFU_PRICE_OUTLIER_PERCENT, default 30).")
    var priceOutlierPercent: String?
    @Option(help: "A price raised by more than this many percent within 30 days alerts as price_jump (BANGFU_PRICE_JUMP_PERCENT, default 20).")
    var priceJumpPercent: String?
    @Option(help: "Days a 帮扶产品 certificate is valid when the admin does not say (BANGFU_CERTIFICATE_VALID_DAYS, default 365).")
    var certificateValidDays: String?
    @Option(help: "PEM private key (BANGFU_TLS_KEY).") var tlsKey: String?
    @Flag(help: "Serve plain HTTP (BANGFU_NO_TLS=1). Only behind a proxy that terminates TLS.") var noTls = false
    @Option(help: "Serve the web UI and OpenAPI document from this directory instead of the copy built in (BANGFU_PUBLIC_DIR; for development).") var publicDir: String?
    @Option(help: "Read the reference data from this directory instead of the copy built in (BANGFU_CATALOG_DIR; for development).") var catalogDir: String?
    @Option(help: "bcrypt cost, at least 10 (BANGFU_BCRYPT_COST, default 10).") var bcryptCost: String?
    @Option(help: "Session lifetime in hours (BANGFU_SESSION_HOURS, default 12).") var sessionHours: String?
    @Flag(help: "Load the demo marketplace (Catalog/demo.json) into an empty database (BANGFU_DEMO=1).") var demo = false
    @Option(help: "Password of every demo user (BANGFU_DEMO_PASSWORD, default bangfu-demo-2026).") var demoPassword: String?
    @Option(help: "County levels admitted, comma-separated: national,provincial (BANGFU_ELIGIBLE_COUNTY_LEVELS, default both).")
    var eligibleCountyLevels: String?
    @Option(help: "Requests a minute per client address on search, CSV, reports, uploads and registration; 0 turns it off (BANGFU_RATE_LIMIT, default 600).")
    var rateLimit: String?
    @Option(help: "Seconds a client has to send a request's head (BANGFU_HEAD_TIMEOUT, default 20).") var headTimeout: String?
    @Option(help: "SQLite commits: full (fsynced, survive a power loss) or normal (survive a killed process) (BANGFU_DURABILITY, default full).")
    var durability: String?
    @Option(help: "Seconds one inbox event stream stays open before the client reconnects (BANGFU_NOTIFICATION_STREAM_SECONDS, default 300).")
    var notificationStreamSeconds: String?
    @Option(help: "Minutes between two passes of the reminders that fell due; 0 sends none (BANGFU_REMINDER_MINUTES, default 10).")
    var reminderMinutes: String?
    @Option(help: "Seconds a client has to send a request's body after its head (BANGFU_BODY_TIMEOUT, default 120).") var bodyTimeout: String?
    @Option(help: "A reverse proxy (address or CIDR) whose X-Forwarded-For is believed; repeat for several (BANGFU_TRUSTED_PROXIES, comma-separated).")
    var trustedProxy: [String] = []
    @Option(help: "Also serve /metrics over plain HTTP on 127.0.0.1 at this port (BANGFU_METRICS_PORT).") var metricsPort: String?
    @Option(help: "Take verified SQLite backups into this directory while serving (BANGFU_BACKUP_DIR).") var backupDir: String?
    @Option(help: "How often: 30m, 6h, 1d (BANGFU_BACKUP_EVERY, default 6h).") var backupEvery: String?
    @Option(help: "How many backups to keep (BANGFU_BACKUP_KEEP, default 14).") var backupKeep: String?
    @Flag(help: "Let webhooks reach loopback and private addresses; for testing only (BANGFU_WEBHOOK_ALLOW_PRIVATE=1).")
    var webhookAllowPrivate = false
    @Option(help: "Seconds before a failed webhook delivery's first retry, doubling after (BANGFU_WEBHOOK_RETRY_SECONDS, default 60).")
    var webhookRetrySeconds: String?
    @Option(help: "PEM file of extra roots trusted for webhook receivers' certificates (BANGFU_WEBHOOK_CA_FILE).")
    var webhookCaFile: String?
    @Option(help: "Send e-mail notifications through this sendmail-compatible program, message on standard input (BANGFU_MAIL_COMMAND; e.g. \"msmtp -t\").")
    var mailCommand: String?
    @Option(help: "The From address of e-mail notifications (BANGFU_MAIL_FROM, default bangfu@localhost.localdomain).")
    var mailFrom: String?

    /// The options given, by long name (their values are checked with the environment's and the
    /// config file's, by `ConfigurationReader`).
    var options: [String: [String]] {
        var given = StorageOptions.given([
            "host": host, "port": port, "tls-cert": tlsCert, "tls-key": tlsKey, "no-tls": noTls ? "true" : nil,
            "slow-moving-days": slowMovingDays, "payment-due-days": paymentDueDays,
            "certificate-expiring-days": certificateExpiringDays, "minimum-reserved-ratio-bp": minimumReservedRatioBp,
            "filing-deadline": filingDeadline, "require-invoice": requireInvoice, "completion-rule": completionRule,
            "price-outlier-percent": priceOutlierPercent, "price-jump-percent": priceJumpPercent,
            "certificate-valid-days": certificateValidDays, "public-dir": publicDir, "catalog-dir": catalogDir,
            "bcrypt-cost": bcryptCost, "session-hours": sessionHours, "demo": demo ? "true" : nil, "demo-password": demoPassword,
            "eligible-county-levels": eligibleCountyLevels, "rate-limit": rateLimit, "head-timeout": headTimeout,
            "durability": durability, "body-timeout": bodyTimeout,
            "notification-stream-seconds": notificationStreamSeconds, "reminder-minutes": reminderMinutes,
            "metrics-port": metricsPort, "backup-dir": backupDir, "backup-every": backupEvery, "backup-keep": backupKeep,
            "webhook-allow-private": webhookAllowPrivate ? "true" : nil, "webhook-retry-seconds": webhookRetrySeconds,
            "webhook-ca-file": webhookCaFile, "mail-command": mailCommand, "mail-from": mailFrom,
        ])
        if !trustedProxy.isEmpty { given["trusted-proxy"] = trustedProxy }
        return given
    }

    func run() async throws {
        let configuration = try await storage.configuration(options)
        let app = try await buildApplication(configuration: configuration)
        try await app.runService()
        app.logger.notice("Bangfu stopped: requests drained, database closed")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations and load reference data.")
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        try await withServices(configuration: try await storage.configuration()) { _ in }
        print("database is up to date")
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user. The password is read from standard input (or a prompt), never an argument.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "admin, county, finance, merchant or buyer.") var role: String
        @Option(help: "3 to 32 characters of A-Z a-z 0-9 _ . -") var username: String
        @Option(help: "Name shown in the UI (default: the username).") var displayName: String?
        @Option(help: "County code, for county officers.") var countyCode: String?
        @Option(help: "Region code (province, prefecture or county), for finance officers.") var regionCode: String?

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("unknown role \(role)") }
            let password = try readPassword()
            let configuration = try await storage.configuration()
            let username = self.username
            let displayName = self.displayName ?? username
            let countyCode = self.countyCode
            let regionCode = self.regionCode
            let id = try await withServices(configuration: configuration) { services in
                try await services.addUser(
                    username: username, password: password, role: role, displayName: displayName,
                    countyCode: countyCode, regionCode: regionCode)
            }
            print("created \(role.rawValue) \(username) (\(id))")
        }

        private func readPassword() throws -> String {
            if isatty(STDIN_FILENO) == 1, let prompt = getpass("Password: ") {
                return String(cString: prompt)
            }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("give the password on standard input")
            }
            return line
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the SQLite database, also while the server runs.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Destination file (must not exist).") var to: String

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists") }
        let to = self.to
        try await withServices(configuration: try await storage.configuration(), migrate: false) { services in
            try await services.backup(to: to)
        }
        print("backup written to \(to)")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the SQLite database with a backup, after checking it; refused while a server runs.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "The backup to restore (from bangfu backup or --backup-dir).") var from: String

    func run() async throws {
        let configuration = try await storage.configuration()
        var logger = Logger(label: "bangfu")
        logger.logLevel = configuration.logLevel
        print(try await AppServices.restore(from: from, configuration: configuration, logger: logger))
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the audit hash chain.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let result = try await withServices(configuration: try await storage.configuration(), migrate: false) {
                try await $0.verifyAudit()
            }
            if result.ok {
                print("audit chain ok: \(result.events) events")
            } else {
                print("audit chain BROKEN at seq \(result.firstBrokenSeq ?? -1) (after \(result.events) good events)")
                throw ExitCode(1)
            }
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a large synthetic catalog for benchmarks, into an empty database only.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Number of listed, certified products.") var products: Int = 100_000
    @Option(help: "Number of merchants.") var merchants: Int = 500
    @Option(help: "Number of verified buyer organizations with a plan; their buyers are seed-b1…seed-bN.") var buyers: Int = 0
    @Option(help: "Password of the seeded buyers.") var buyerPassword: String = "bangfu-bench-2026"
    @Option(help: "Settled orders of two lines each, spread over this quota year (needs --buyers).") var settledOrders: Int = 0

    func run() async throws {
        guard products >= 0, merchants >= 1, buyers >= 0 else { throw ValidationError("products >= 0, merchants >= 1, buyers >= 0") }
        let (products, merchants, buyers, password, settled) = (
            self.products, self.merchants, self.buyers, self.buyerPassword, self.settledOrders
        )
        let start = ContinuousClock.now
        let message = try await withServices(configuration: try await storage.configuration()) { services in
            // Progress on standard error (redrawn in place on a terminal); the result on standard output.
            let printer = ProgressPrinter.standardError()
            defer { printer.finish() }
            return try await services.seed(
                products: products, merchants: merchants, buyers: buyers, buyerPassword: password, settledOrders: settled,
                progress: printer.progress)
        }
        print("\(message) in \(ContinuousClock.now - start)")
    }
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "The certificate signing keys.", subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key; it signs from now on, older keys stay published.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let kid = try SigningKeyFiles.rotate(configuration: try await storage.configuration())
            print("new signing key \(kid); running servers pick it up at their next signature")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the published keys as JWK (newest last).")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            print(try await SigningKeyFiles.publishedJSON(configuration: try await storage.configuration()))
        }
    }
}

struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate", abstract: "帮扶产品 certificates.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a certificate's Ed25519 signature offline.",
            discussion: """
                Either fetch it by number from a server (--server https://host:8443, with --trust-cert for a \
                self-signed certificate), or read a saved certificate JSON (--file) and the keys (--keys: \
                the /api/v1/certificate-keys answer or one JWK). Exits 1 when the signature is invalid \
                or the certificate is expired or revoked.
                """)
        @Argument(help: "Certificate number (with --server).") var number: String?
        @Option(help: "Server base URL, e.g. https://127.0.0.1:8443.") var server: String?
        @Option(help: "Trust exactly this PEM certificate for the server (its self-signed data/tls/localhost.crt).")
        var trustCert: String?
        @Flag(help: "Do not verify the server's TLS certificate (the signature is still checked).") var insecure = false
        @Option(help: "A saved certificate JSON.") var file: String?
        @Option(help: "The public keys: {keys:[JWK]}, [JWK] or one JWK.") var keys: String?

        func run() async throws {
            let certificate: Data
            let keySet: Data
            if let server {
                guard let number, number.range(of: "^BF-[0-9]{4}-[0-9]{6,}$", options: .regularExpression) != nil else {
                    throw ValidationError("give the certificate number, BF-YYYY-NNNNNN")
                }
                let base = server.hasSuffix("/") ? String(server.dropLast()) : server
                let fetched = try await CertificateFetcher.get("\(base)/api/v1/certificates/\(number)", trustCertificate: trustCert, insecure: insecure)
                guard fetched.status == 200 else {
                    print("the server answered \(fetched.status) for \(number)")
                    throw ExitCode(1)
                }
                certificate = fetched.body
                if let keys {
                    keySet = try Data(contentsOf: URL(fileURLWithPath: keys))
                } else {
                    let fetchedKeys = try await CertificateFetcher.get("\(base)/api/v1/certificate-keys", trustCertificate: trustCert, insecure: insecure)
                    keySet = fetchedKeys.body
                }
            } else if let file, let keys {
                certificate = try Data(contentsOf: URL(fileURLWithPath: file))
                keySet = try Data(contentsOf: URL(fileURLWithPath: keys))
            } else {
                throw ValidationError("use NUMBER --server URL, or --file CERT.json --keys KEYS.json")
            }
            let outcome = try CertificateVerification.verify(certificateJSON: certificate, keysJSON: keySet, now: Date())
            print(outcome.summary)
            if !outcome.signatureValid || outcome.expired || outcome.claimedStatus == "revoked" { throw ExitCode(1) }
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the invariants between orders, quota plans, stock, the audit log and the catalog index; exit 1 on any breach.")
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let problems = try await withServices(configuration: try await storage.configuration(), migrate: false) {
            try await $0.checkInvariants()
        }
        if problems.isEmpty {
            print("all invariants hold")
        } else {
            problems.forEach { print($0) }
            throw ExitCode(1)
        }
    }
}

import ArgumentParser
import BangfuApp
import Foundation
import Logging

/// Options every command shares; each also comes from a `BANGFU_*` environment variable.
struct StorageOptions: ParsableArguments {
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

    func configuration() throws -> AppConfiguration {
        let env = ProcessInfo.processInfo.environment
        var configuration = AppConfiguration()
        configuration.dataDirectory = dataDir ?? env["BANGFU_DATA_DIR"] ?? "./data"
        configuration.databaseURL = database ?? env["BANGFU_DATABASE"]
        configuration.keysDirectory = keysDir ?? env["BANGFU_KEYS_DIR"]
        if let days = env["BANGFU_CERTIFICATE_VALID_DAYS"] {
            guard let value = Int64(days), (1...3650).contains(value) else {
                throw ValidationError("BANGFU_CERTIFICATE_VALID_DAYS must be 1 to 3650")
            }
            configuration.certificateValidDays = value
        }
        if let format = logFormat ?? env["BANGFU_LOG_FORMAT"], !["text", "json"].contains(format) {
            throw ValidationError("log format is text or json")
        }
        if let level = logLevel ?? env["BANGFU_LOG_LEVEL"] {
            guard let parsed = Logger.Level(rawValue: level) else { throw ValidationError("unknown log level \(level)") }
            configuration.logLevel = parsed
        }
        configuration.publicDirectory = env["BANGFU_PUBLIC_DIR"] ?? configuration.publicDirectory
        configuration.catalogDirectory = env["BANGFU_CATALOG_DIR"] ?? configuration.catalogDirectory
        return configuration
    }
}

/// Runs the command; a failure that is not about the command line prints one line naming what
/// failed and what to do, and exits with its code (README "Commands": the exit codes).
@main
enum Entry {
    static func main() async {
        // Logging is set up before anything logs; the option itself is parsed (and checked)
        // with the rest below.
        if logFormat(CommandLine.arguments) == "json" {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
        }
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

/// The value of `--log-format` (or `BANGFU_LOG_FORMAT`), read before the command line is parsed.
func logFormat(_ arguments: [String]) -> String? {
    for (index, argument) in arguments.enumerated() {
        if argument.hasPrefix("--log-format=") { return String(argument.dropFirst("--log-format=".count)) }
        if argument == "--log-format", index + 1 < arguments.count { return arguments[index + 1] }
    }
    return ProcessInfo.processInfo.environment["BANGFU_LOG_FORMAT"]
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
    @Option(help: "Port (BANGFU_PORT, default 8443).") var port: Int?
    @Option(help: "PEM certificate chain (BANGFU_TLS_CERT); default: self-signed in the data directory.") var tlsCert: String?
    @Option(help: "Days without an order after which a listed product is slow-moving (BANGFU_SLOW_MOVING_DAYS, default 30).")
    var slowMovingDays: Int?
    @Option(help: "Days after acceptance a payment is due (BANGFU_PAYMENT_DUE_DAYS, default 30).")
    var paymentDueDays: Int?
    @Option(help: "Days before expiry a certificate alerts (BANGFU_CERTIFICATE_EXPIRING_DAYS, default 30).")
    var certificateExpiringDays: Int?
    @Option(help: "Policy minimum of a quota plan's reserved ratio in basis points (BANGFU_MINIMUM_RESERVED_RATIO_BP, default 1000 = 10%).")
    var minimumReservedRatioBp: Int64?
    @Option(help: "Days a 帮扶产品 certificate is valid when the admin does not say (BANGFU_CERTIFICATE_VALID_DAYS, default 365).")
    var certificateValidDays: Int64?
    @Option(help: "PEM private key (BANGFU_TLS_KEY).") var tlsKey: String?
    @Flag(help: "Serve plain HTTP (BANGFU_NO_TLS=1). Only behind a proxy that terminates TLS.") var noTls = false
    @Option(help: "Serve the web UI and OpenAPI document from this directory instead of the copy built in (BANGFU_PUBLIC_DIR; for development).") var publicDir: String?
    @Option(help: "Read the reference data from this directory instead of the copy built in (BANGFU_CATALOG_DIR; for development).") var catalogDir: String?
    @Option(help: "bcrypt cost, at least 10 (BANGFU_BCRYPT_COST, default 10).") var bcryptCost: UInt8?
    @Option(help: "Session lifetime in hours (BANGFU_SESSION_HOURS, default 12).") var sessionHours: Int?
    @Flag(help: "Load the demo marketplace (Catalog/demo.json) into an empty database (BANGFU_DEMO=1).") var demo = false
    @Option(help: "Password of every demo user (BANGFU_DEMO_PASSWORD, default bangfu-demo-2026).") var demoPassword: String?
    @Option(help: "County levels admitted, comma-separated: national,provincial (BANGFU_ELIGIBLE_COUNTY_LEVELS, default both).")
    var eligibleCountyLevels: String?
    @Option(help: "Requests a minute per client address on search, CSV, reports, uploads and registration; 0 turns it off (BANGFU_RATE_LIMIT, default 600).")
    var rateLimit: Int?
    @Option(help: "Seconds a client has to send a request's head (BANGFU_HEAD_TIMEOUT, default 20).") var headTimeout: Int?
    @Option(help: "SQLite commits: full (fsynced, survive a power loss) or normal (survive a killed process) (BANGFU_DURABILITY, default full).")
    var durability: String?
    @Option(help: "Milliseconds rendered catalog pages are shared; 0 turns the cache off (BANGFU_CATALOG_CACHE_MS, default 1000).")
    var catalogCacheMs: Int?
    @Option(help: "Seconds a client has to send a request's body after its head (BANGFU_BODY_TIMEOUT, default 120).") var bodyTimeout: Int?
    @Option(help: "A reverse proxy (address or CIDR) whose X-Forwarded-For is believed; repeat for several (BANGFU_TRUSTED_PROXIES, comma-separated).")
    var trustedProxy: [String] = []
    @Option(help: "Also serve /metrics over plain HTTP on 127.0.0.1 at this port (BANGFU_METRICS_PORT).") var metricsPort: Int?
    @Option(help: "Take verified SQLite backups into this directory while serving (BANGFU_BACKUP_DIR).") var backupDir: String?
    @Option(help: "How often: 30m, 6h, 1d (BANGFU_BACKUP_EVERY, default 6h).") var backupEvery: String?
    @Option(help: "How many backups to keep (BANGFU_BACKUP_KEEP, default 14).") var backupKeep: Int?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var configuration = try storage.configuration()
        configuration.host = host ?? env["BANGFU_HOST"] ?? configuration.host
        configuration.port = port ?? env["BANGFU_PORT"].flatMap(Int.init) ?? configuration.port
        configuration.tlsCertificate = tlsCert ?? env["BANGFU_TLS_CERT"]
        configuration.tlsKey = tlsKey ?? env["BANGFU_TLS_KEY"]
        configuration.tls = !(noTls || ["1", "true", "yes"].contains(env["BANGFU_NO_TLS"]?.lowercased() ?? ""))
        configuration.publicDirectory = publicDir ?? configuration.publicDirectory
        configuration.catalogDirectory = catalogDir ?? configuration.catalogDirectory
        if let cost = bcryptCost ?? env["BANGFU_BCRYPT_COST"].flatMap(UInt8.init) {
            guard cost >= 10 && cost <= 16 else { throw ValidationError("bcrypt cost must be 10 to 16") }
            configuration.bcryptCost = cost
        }
        if let hours = sessionHours ?? env["BANGFU_SESSION_HOURS"].flatMap(Int.init) {
            guard hours >= 1 && hours <= 24 * 30 else { throw ValidationError("session hours must be 1 to 720") }
            configuration.sessionLifetime = .seconds(hours * 3600)
        }
        if let levels = eligibleCountyLevels ?? env["BANGFU_ELIGIBLE_COUNTY_LEVELS"] {
            let parsed = levels.split(separator: ",").map { CountyLevel(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else {
                throw ValidationError("eligible county levels are national and/or provincial")
            }
            configuration.eligibleCountyLevels = Set(parsed.compactMap { $0 })
        }
        for (value, variable, apply) in [
            (slowMovingDays, "BANGFU_SLOW_MOVING_DAYS", { (c: inout AppConfiguration, d: Int) in c.alerts.slowMovingDays = d }),
            (paymentDueDays, "BANGFU_PAYMENT_DUE_DAYS", { (c: inout AppConfiguration, d: Int) in c.alerts.paymentDueDays = d }),
            (certificateExpiringDays, "BANGFU_CERTIFICATE_EXPIRING_DAYS", { (c: inout AppConfiguration, d: Int) in c.alerts.certificateExpiringDays = d }),
        ] {
            if let days = value ?? env[variable].flatMap(Int.init) {
                guard (1...3650).contains(days) else { throw ValidationError("\(variable) must be 1 to 3650 days") }
                apply(&configuration, days)
            }
        }
        if let ratio = minimumReservedRatioBp ?? env["BANGFU_MINIMUM_RESERVED_RATIO_BP"].flatMap(Int64.init) {
            guard (0...10000).contains(ratio) else { throw ValidationError("minimum reserved ratio must be 0 to 10000 bp") }
            configuration.minimumReservedRatioBp = ratio
        }
        if let days = certificateValidDays {
            guard (1...3650).contains(days) else { throw ValidationError("certificate valid days must be 1 to 3650") }
            configuration.certificateValidDays = days
        }
        switch durability ?? env["BANGFU_DURABILITY"] {
        case nil, "full": configuration.durableCommits = true
        case "normal": configuration.durableCommits = false
        default: throw ValidationError("durability is full or normal")
        }
        if let ms = catalogCacheMs ?? env["BANGFU_CATALOG_CACHE_MS"].flatMap(Int.init) {
            guard (0...60_000).contains(ms) else { throw ValidationError("catalog cache must be 0 to 60000 ms") }
            configuration.catalogCacheTTL = .milliseconds(ms)
        }
        if let limit = rateLimit ?? env["BANGFU_RATE_LIMIT"].flatMap(Int.init) {
            guard limit >= 0 else { throw ValidationError("rate limit must be 0 (off) or more requests a minute") }
            configuration.rateLimitPerMinute = limit
        }
        for (value, variable, apply) in [
            (headTimeout, "BANGFU_HEAD_TIMEOUT", { (c: inout AppConfiguration, s: Int) in c.headTimeout = .seconds(s) }),
            (bodyTimeout, "BANGFU_BODY_TIMEOUT", { (c: inout AppConfiguration, s: Int) in c.bodyTimeout = .seconds(s) }),
        ] {
            if let seconds = value ?? env[variable].flatMap(Int.init) {
                guard (1...3600).contains(seconds) else { throw ValidationError("\(variable) must be 1 to 3600 seconds") }
                apply(&configuration, seconds)
            }
        }
        let proxies = trustedProxy.isEmpty
            ? (env["BANGFU_TRUSTED_PROXIES"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            : trustedProxy
        configuration.trustedProxies = try proxies.map { text in
            guard let cidr = CIDR(text) else { throw ValidationError("\(text) is not an address or CIDR (--trusted-proxy 127.0.0.1 or 10.0.0.0/8)") }
            return cidr
        }
        if let port = metricsPort ?? env["BANGFU_METRICS_PORT"].flatMap(Int.init) {
            guard (1...65535).contains(port) else { throw ValidationError("metrics port must be 1 to 65535") }
            configuration.metricsPort = port
        }
        if let directory = backupDir ?? env["BANGFU_BACKUP_DIR"] {
            let text = backupEvery ?? env["BANGFU_BACKUP_EVERY"] ?? "6h"
            guard let every = BackupSettings.interval(text) else {
                throw ValidationError("backup interval \(text): give 30m, 6h or 1d (a minute to a year)")
            }
            let keep = backupKeep ?? env["BANGFU_BACKUP_KEEP"].flatMap(Int.init) ?? 14
            guard (1...10_000).contains(keep) else { throw ValidationError("backups to keep must be 1 to 10000") }
            configuration.backups = BackupSettings(directory: directory, every: every, keep: keep)
        } else if backupEvery != nil || backupKeep != nil {
            throw ValidationError("--backup-every and --backup-keep need --backup-dir")
        }
        configuration.demo = demo || ["1", "true", "yes"].contains(env["BANGFU_DEMO"]?.lowercased() ?? "")
        configuration.demoPassword = demoPassword ?? env["BANGFU_DEMO_PASSWORD"] ?? configuration.demoPassword
        let app = try await buildApplication(configuration: configuration)
        try await app.runService()
        app.logger.notice("Bangfu stopped: requests drained, database closed")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations and load reference data.")
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        try await withServices(configuration: try storage.configuration()) { _ in }
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
        @Option(help: "admin, county, merchant or buyer.") var role: String
        @Option(help: "3 to 32 characters of A-Z a-z 0-9 _ . -") var username: String
        @Option(help: "Name shown in the UI (default: the username).") var displayName: String?
        @Option(help: "County code, for county officers.") var countyCode: String?

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("unknown role \(role)") }
            let password = try readPassword()
            let configuration = try storage.configuration()
            let username = self.username
            let displayName = self.displayName ?? username
            let countyCode = self.countyCode
            let id = try await withServices(configuration: configuration) { services in
                try await services.addUser(
                    username: username, password: password, role: role, displayName: displayName,
                    countyCode: countyCode)
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
        try await withServices(configuration: try storage.configuration(), migrate: false) { services in
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
        let configuration = try storage.configuration()
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
            let result = try await withServices(configuration: try storage.configuration(), migrate: false) {
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
        let message = try await withServices(configuration: try storage.configuration()) { services in
            try await services.seed(
                products: products, merchants: merchants, buyers: buyers, buyerPassword: password, settledOrders: settled)
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
            let kid = try SigningKeyFiles.rotate(configuration: try storage.configuration())
            print("new signing key \(kid); running servers pick it up at their next signature")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the published keys as JWK (newest last).")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            print(try await SigningKeyFiles.publishedJSON(configuration: try storage.configuration()))
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
        abstract: "Check the invariants between orders, quota plans, stock and the audit log; exit 1 on any breach.")
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let problems = try await withServices(configuration: try storage.configuration(), migrate: false) {
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

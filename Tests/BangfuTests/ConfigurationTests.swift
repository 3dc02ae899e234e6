import Foundation
import Logging
import Testing

@testable import BangfuApp

/// Issue 17: the configuration is read once through swift-configuration, the command line first,
/// then the environment, the `--config` file and the defaults, and a malformed value is refused
/// with the same one-line error whichever source gave it.
@Suite struct ConfigurationTests {
    /// A config file holding `json`, removed when the test ends.
    final class ConfigFile {
        let path: String

        init(_ json: String) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("bangfu-config-\(UUID().uuidString).json").path
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    private func read(_ commandLine: [String: [String]] = [:], _ environment: [String: String] = [:]) async throws -> AppConfiguration {
        try await ConfigurationReader.read(commandLine: commandLine, environment: environment)
    }

    /// The operator error `body` fails with (nil: it did not fail with one).
    private func refusal(_ body: () async throws -> AppConfiguration) async -> OperatorError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? OperatorError
        }
    }

    @Test func nothingGivenIsTheDefaults() async throws {
        let configuration = try await read()
        let defaults = AppConfiguration()
        #expect(configuration.port == defaults.port && configuration.host == defaults.host)
        #expect(configuration.dataDirectory == "./data" && configuration.databaseURL == nil && configuration.tls)
        #expect(configuration.logFormat == .text && configuration.logLevel == .info && configuration.durableCommits)
        #expect(configuration.backups == nil && configuration.trustedProxies.isEmpty && configuration.metricsPort == nil)
    }

    @Test func theCommandLineWinsOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverTheDefaults() async throws {
        let file = try ConfigFile(#"{"port": 1001, "host": "10.0.0.1", "rate-limit": 5}"#)
        let config = ["config": [file.path]]
        #expect(try await read(config.merging(["port": ["1003"]]) { $1 }, ["BANGFU_PORT": "1002"]).port == 1003)
        #expect(try await read(config, ["BANGFU_PORT": "1002"]).port == 1002)
        #expect(try await read(config).port == 1001)
        #expect(try await read().port == 8443)
        // Each setting on its own: the file's host and rate limit stay under an environment port.
        let mixed = try await read(config, ["BANGFU_PORT": "1002", "BANGFU_RATE_LIMIT": "0"])
        #expect(mixed.host == "10.0.0.1" && mixed.rateLimitPerMinute == 0 && mixed.port == 1002)
        // BANGFU_CONFIG names the file too; --config wins over it.
        #expect(try await read([:], ["BANGFU_CONFIG": file.path]).port == 1001)
        let other = try ConfigFile(#"{"port": 1004}"#)
        #expect(try await read(["config": [other.path]], ["BANGFU_CONFIG": file.path]).port == 1004)
    }

    @Test func everySettingComesFromTheFileWithItsOwnTypes() async throws {
        let file = try ConfigFile(
            """
            {"data-dir": "/var/lib/bangfu", "no-tls": true, "demo": false, "trusted-proxy": ["127.0.0.1", "10.0.0.0/8"],
             "eligible-county-levels": "national", "session-hours": 2, "durability": "normal",
             "backup-dir": "/var/backups/bangfu", "backup-every": "1d", "backup-keep": 28, "log-format": "json",
             "log-level": "warning", "bcrypt-cost": 12, "minimum-reserved-ratio-bp": 0, "metrics-port": 9464,
             "tls-cert": null}
            """)
        let c = try await read(["config": [file.path]])
        #expect(c.dataDirectory == "/var/lib/bangfu" && !c.tls && !c.demo && c.tlsCertificate == nil)
        #expect(c.trustedProxies.map(\.description) == ["127.0.0.1", "10.0.0.0/8"])
        #expect(c.eligibleCountyLevels == [.national] && c.sessionLifetime == .seconds(7200) && !c.durableCommits)
        #expect(c.logFormat == .json && c.logLevel == .warning && c.bcryptCost == 12)
        #expect(c.backups == BackupSettings(directory: "/var/backups/bangfu", every: .seconds(86400), keep: 28))
        #expect(c.minimumReservedRatioBp == 0 && c.metricsPort == 9464)
    }

    @Test func theEnvironmentKeepsItsNamesAndAnEmptyVariableIsUnset() async throws {
        let c = try await read(
            [:],
            [
                "BANGFU_DATA_DIR": "/srv/data", "BANGFU_DATABASE": "sqlite:///tmp/x.sqlite", "BANGFU_KEYS_DIR": "/srv/keys",
                "BANGFU_NO_TLS": "1", "BANGFU_DEMO": "yes", "BANGFU_TRUSTED_PROXIES": "127.0.0.1, ::1",
                "BANGFU_CERTIFICATE_VALID_DAYS": "30", "BANGFU_SLOW_MOVING_DAYS": "7", "BANGFU_HEAD_TIMEOUT": "5",
                "BANGFU_PORT": "", "BANGFU_SCREENSHOTS": "/tmp/not-a-setting",
            ])
        #expect(c.dataDirectory == "/srv/data" && c.databaseURL == "sqlite:///tmp/x.sqlite" && c.keysDirectory == "/srv/keys")
        #expect(!c.tls && c.demo && c.trustedProxies.map(\.description) == ["127.0.0.1", "::1"])
        #expect(c.certificateValidDays == 30 && c.alerts.slowMovingDays == 7 && c.headTimeout == .seconds(5) && c.port == 8443)
    }

    @Test func theRetiredCatalogCacheSettingIsRefused() async throws {
        // The catalog index made the page cache unnecessary (issue 18); an old setting is named.
        let file = try ConfigFile(#"{"catalog-cache-ms": 500}"#)
        #expect(await refusal { try await read(["config": [file.path]]) }?.message.contains("unknown key \"catalog-cache-ms\"") == true)
    }

    @Test func completionRuleAndPriceThresholds() async throws {
        let c = try await read(["completion-rule": ["settled_and_rated"], "price-outlier-percent": ["45"]], ["BANGFU_PRICE_JUMP_PERCENT": "10"])
        #expect(c.completionRule == .settledAndRated && c.alerts.priceOutlierPercent == 45 && c.alerts.priceJumpPercent == 10)
        #expect(try await read().completionRule == .settled)
        #expect(await refusal { try await read(["completion-rule": ["rated"]]) }?.message == "--completion-rule rated: expected settled or settled_and_rated")
        #expect(await refusal { try await read(["price-outlier-percent": ["0"]]) }?.exitCode == ExitCodes.configuration)
        #expect(await refusal { try await read([:], ["BANGFU_PRICE_JUMP_PERCENT": "1001"]) }?.exitCode == ExitCodes.configuration)
    }

    @Test func aBadValueIsRefusedTheSameWayFromEverySource() async throws {
        let file = try ConfigFile(#"{"port": "abc"}"#)
        let fromFlag = await refusal { try await read(["port": ["abc"]]) }
        let fromEnvironment = await refusal { try await read([:], ["BANGFU_PORT": "abc"]) }
        let fromFile = await refusal { try await read(["config": [file.path]]) }
        #expect(fromFlag?.message == "--port abc: expected a port number 1-65535")
        #expect(fromEnvironment?.message == "BANGFU_PORT=abc: expected a port number 1-65535")
        #expect(fromFile?.message == "port = abc in \(file.path): expected a port number 1-65535")
        for failure in [fromFlag, fromEnvironment, fromFile] {
            #expect(failure?.exitCode == ExitCodes.configuration)
            #expect(OperatorError.describing(try #require(failure)).message == failure?.message)
        }
        // A well-formed value from a higher source shadows it; a malformed one is not skipped.
        #expect(try await read(["port": ["9000"]], ["BANGFU_PORT": "abc"]).port == 9000)
        #expect(await refusal { try await read(["port": ["abc"]], ["BANGFU_PORT": "9000"]) } != nil)
    }

    @Test func outOfRangeValuesListsAndFlagsAreRefusedWithTheirSource() async throws {
        let cases: [([String: [String]], [String: String], String)] = [
            ([:], ["BANGFU_NO_TLS": "maybe"], "BANGFU_NO_TLS=maybe: expected true or false"),
            ([:], ["BANGFU_BCRYPT_COST": "9"], "BANGFU_BCRYPT_COST=9: expected a bcrypt cost 10-16"),
            (["session-hours": ["721"]], [:], "--session-hours 721: expected a number of hours 1-720"),
            ([:], ["BANGFU_DURABILITY": "fast"], "BANGFU_DURABILITY=fast: expected full or normal"),
            ([:], ["BANGFU_ELIGIBLE_COUNTY_LEVELS": "national,city"], "not city"),
            (["trusted-proxy": ["127.0.0.1", "bogus"]], [:], "--trusted-proxy 127.0.0.1 --trusted-proxy bogus: expected addresses"),
            ([:], ["BANGFU_LOG_LEVEL": "loud"], "BANGFU_LOG_LEVEL=loud: expected trace"),
            (["log-format": ["xml"]], [:], "--log-format xml: expected text or json"),
            ([:], ["BANGFU_BACKUP_DIR": "/b", "BANGFU_BACKUP_EVERY": "10s"], "BANGFU_BACKUP_EVERY=10s: expected an interval"),
            ([:], ["BANGFU_BACKUP_KEEP": "3"], "BANGFU_BACKUP_KEEP=3: needs a backup directory too"),
            ([:], ["BANGFU_CERTIFICATE_VALID_DAYS": "0"], "BANGFU_CERTIFICATE_VALID_DAYS=0: expected a number of days 1-3650"),
        ]
        for (commandLine, environment, message) in cases {
            let failure = await refusal { try await read(commandLine, environment) }
            #expect(failure?.message.hasPrefix(message) == true || failure?.message.contains(message) == true, "\(message): \(String(describing: failure))")
            #expect(failure?.exitCode == ExitCodes.configuration)
        }
    }

    @Test func aSecretIsNeverShown() async throws {
        let file = try ConfigFile(#"{"demo-password": {"x": 1}}"#)
        let failure = await refusal { try await read(["config": [file.path]]) }
        #expect(failure?.exitCode == ExitCodes.configuration)
        #expect(failure?.message.contains("\"x\"") == false)
        let value = SettingValue(setting: try #require(ConfigurationSettings.named["database"]), text: "postgres://u:pw@h/db", source: .environment)
        #expect(!value.origin.contains("pw") && value.origin.hasPrefix("BANGFU_DATABASE="))
    }

    @Test func anUnknownFileKeyIsRefusedByName() async throws {
        let file = try ConfigFile(#"{"port": 8080, "prot": 8080}"#)
        let failure = await refusal { try await read(["config": [file.path]]) }
        #expect(failure?.exitCode == ExitCodes.configuration)
        #expect(failure?.message.contains("unknown key \"prot\"") == true)
        #expect(failure?.message.contains(file.path) == true)
        // The file cannot name another file.
        let nested = try ConfigFile(#"{"config": "/etc/other.json"}"#)
        #expect(await refusal { try await read(["config": [nested.path]]) }?.message.contains("unknown key \"config\"") == true)
    }

    @Test func aMissingOrMalformedConfigFileIsRefused() async throws {
        let missing = "/nowhere/bangfu-\(UUID().uuidString).json"
        let notThere = await refusal { try await read(["config": [missing]]) }
        #expect(notThere?.exitCode == ExitCodes.noInput && notThere?.message.contains(missing) == true)
        #expect(await refusal { try await read([:], ["BANGFU_CONFIG": missing]) }?.exitCode == ExitCodes.noInput)
        for (json, words) in [
            (#"{"port": 80"#, "is not valid JSON"), ("", "is not valid JSON"), ("[1, 2]", "is not a JSON object"),
            (#"{"backup": {"dir": "/b"}}"#, "gives \"backup\" an object"),
        ] {
            let file = try ConfigFile(json)
            let failure = await refusal { try await read(["config": [file.path]]) }
            #expect(failure?.exitCode == ExitCodes.configuration, "\(json)")
            #expect(failure?.message.contains(words) == true && failure?.message.contains(file.path) == true, "\(String(describing: failure))")
        }
        let directory = FileManager.default.temporaryDirectory.path
        #expect(await refusal { try await read(["config": [directory]]) }?.exitCode == ExitCodes.configuration)
    }

    @Test func everySettingHasItsEnvironmentVariable() {
        let names = Set(ConfigurationSettings.all.map(\.environment))
        for name in [
            "BANGFU_DATA_DIR", "BANGFU_DATABASE", "BANGFU_KEYS_DIR", "BANGFU_LOG_LEVEL", "BANGFU_LOG_FORMAT",
            "BANGFU_CERTIFICATE_VALID_DAYS", "BANGFU_PUBLIC_DIR", "BANGFU_CATALOG_DIR", "BANGFU_HOST", "BANGFU_PORT",
            "BANGFU_TLS_CERT", "BANGFU_TLS_KEY", "BANGFU_NO_TLS", "BANGFU_SLOW_MOVING_DAYS", "BANGFU_PAYMENT_DUE_DAYS",
            "BANGFU_CERTIFICATE_EXPIRING_DAYS", "BANGFU_MINIMUM_RESERVED_RATIO_BP", "BANGFU_BCRYPT_COST",
            "BANGFU_SESSION_HOURS", "BANGFU_DEMO", "BANGFU_DEMO_PASSWORD", "BANGFU_ELIGIBLE_COUNTY_LEVELS",
            "BANGFU_RATE_LIMIT", "BANGFU_HEAD_TIMEOUT", "BANGFU_BODY_TIMEOUT", "BANGFU_DURABILITY",
            "BANGFU_TRUSTED_PROXIES", "BANGFU_METRICS_PORT", "BANGFU_BACKUP_DIR",
            "BANGFU_BACKUP_EVERY", "BANGFU_BACKUP_KEEP",
        ] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(names.count == ConfigurationSettings.all.count)
        #expect(ConfigurationSettings.named["trusted-proxy"]?.environment == "BANGFU_TRUSTED_PROXIES")
    }

    @Test func anOptionThatIsNoSettingIsADefect() async throws {
        #expect(await refusal { try await read(["no-such-setting": ["1"]]) }?.exitCode == ExitCodes.software)
    }
}

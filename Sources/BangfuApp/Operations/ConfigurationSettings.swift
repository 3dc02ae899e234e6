import Foundation
import Logging

/// One operator setting: its long option name, which is also its key in the `--config` file, and
/// its environment variable (`BANGFU_` and the name in capitals, `-` as `_`, unless told).
struct Setting: Sendable {
    let key: String
    let environment: String
    /// Never shown in a message (`database` may hold a password).
    var secret = false
    /// Comma-separated; the option may be repeated.
    var list = false
    /// An option without a value (`--no-tls`); elsewhere `true`/`false`.
    var flag = false

    init(_ key: String, environment: String? = nil, secret: Bool = false, list: Bool = false, flag: Bool = false) {
        self.key = key
        self.environment = environment ?? "BANGFU_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
        self.secret = secret
        self.list = list
        self.flag = flag
    }
}

/// Every setting of `bangfu` (README "Configuration") and how its text becomes `AppConfiguration`.
enum ConfigurationSettings {
    static let all: [Setting] = [
        // Every command.
        Setting("data-dir"), Setting("database", secret: true), Setting("keys-dir"), Setting("log-level"),
        Setting("log-format"), Setting("certificate-valid-days"), Setting("public-dir"), Setting("catalog-dir"),
        // The server.
        Setting("host"), Setting("port"), Setting("tls-cert"), Setting("tls-key"), Setting("no-tls", flag: true),
        Setting("slow-moving-days"), Setting("payment-due-days"), Setting("certificate-expiring-days"),
        Setting("minimum-reserved-ratio-bp"), Setting("filing-deadline"), Setting("require-invoice"), Setting("completion-rule"), Setting("price-outlier-percent"), Setting("price-jump-percent"), Setting("bcrypt-cost"), Setting("session-hours"),
        Setting("demo", flag: true), Setting("demo-password", secret: true),
        Setting("eligible-county-levels", list: true), Setting("rate-limit"), Setting("head-timeout"),
        Setting("body-timeout"), Setting("durability"), Setting("notification-stream-seconds"), Setting("reminder-minutes"),
        Setting("trusted-proxy", environment: "BANGFU_TRUSTED_PROXIES", list: true), Setting("metrics-port"),
        Setting("backup-dir"), Setting("backup-every"), Setting("backup-keep"),
        Setting("webhook-allow-private", flag: true), Setting("webhook-retry-seconds"), Setting("webhook-ca-file"),
        Setting("mail-command"), Setting("mail-from"),
    ]

    static let named: [String: Setting] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The configuration from `values`; a setting no source gives keeps its default.
    static func configuration(from values: SettingValues) throws -> AppConfiguration {
        var c = AppConfiguration()
        c.dataDirectory = try values.text("data-dir") ?? c.dataDirectory
        c.databaseURL = try values.text("database")
        c.keysDirectory = try values.text("keys-dir")
        c.logLevel =
            try values.parse("log-level", expected: "trace, debug, info, notice, warning, error or critical") {
                Logger.Level(rawValue: $0)
            }
            ?? c.logLevel
        c.logFormat = try values.parse("log-format", expected: "text or json") { LogFormat(rawValue: $0) } ?? c.logFormat
        c.certificateValidDays =
            try values.parse("certificate-valid-days", expected: "a number of days 1-3650", within(1...3650)) ?? c.certificateValidDays
        c.publicDirectory = try values.text("public-dir")
        c.catalogDirectory = try values.text("catalog-dir")

        c.host = try values.text("host") ?? c.host
        c.port = try values.parse("port", expected: "a port number 1-65535", within(1...65535)) ?? c.port
        c.tlsCertificate = try values.text("tls-cert")
        c.tlsKey = try values.text("tls-key")
        c.tls = !(try values.parse("no-tls", expected: yesOrNo, boolean) ?? false)
        c.alerts.slowMovingDays = try values.parse("slow-moving-days", expected: "a number of days 1-3650", within(1...3650)) ?? c.alerts.slowMovingDays
        c.alerts.paymentDueDays = try values.parse("payment-due-days", expected: "a number of days 1-3650", within(1...3650)) ?? c.alerts.paymentDueDays
        c.alerts.certificateExpiringDays =
            try values.parse("certificate-expiring-days", expected: "a number of days 1-3650", within(1...3650)) ?? c.alerts.certificateExpiringDays
        c.minimumReservedRatioBp =
            try values.parse("minimum-reserved-ratio-bp", expected: "basis points 0-10000", within(0...10000)) ?? c.minimumReservedRatioBp
        c.alerts.filingDeadline =
            try values.parse("filing-deadline", expected: "a day of the year as MM-DD (03-31)", { FilingDeadline($0) })
            ?? c.alerts.filingDeadline
        c.requireInvoice = try values.parse("require-invoice", expected: yesOrNo, boolean) ?? c.requireInvoice
        c.alerts.priceOutlierPercent =
            try values.parse("price-outlier-percent", expected: "a percentage 1-1000", within(1...1000)) ?? c.alerts.priceOutlierPercent
        c.alerts.priceJumpPercent =
            try values.parse("price-jump-percent", expected: "a percentage 1-1000", within(1...1000)) ?? c.alerts.priceJumpPercent
        c.completionRule =
            try values.parse("completion-rule", expected: "settled or settled_and_rated") { CompletionRule(rawValue: $0) }
            ?? c.completionRule
        c.bcryptCost = try values.parse("bcrypt-cost", expected: "a bcrypt cost 10-16", within(10...16)) ?? c.bcryptCost
        if let hours = try values.parse("session-hours", expected: "a number of hours 1-720", within(1...720)) {
            c.sessionLifetime = .seconds(hours * 3600)
        }
        c.demo = try values.parse("demo", expected: yesOrNo, boolean) ?? c.demo
        c.demoPassword = try values.text("demo-password") ?? c.demoPassword
        if let levels = try values.list(
            "eligible-county-levels", expected: "national and/or provincial, comma-separated", nonEmpty: true) { CountyLevel(rawValue: $0) }
        {
            c.eligibleCountyLevels = Set(levels)
        }
        c.rateLimitPerMinute =
            try values.parse("rate-limit", expected: "0 (off) or more requests a minute", within(0...Int.max)) ?? c.rateLimitPerMinute
        if let seconds = try values.parse("head-timeout", expected: "a number of seconds 1-3600", within(1...3600)) {
            c.headTimeout = .seconds(seconds)
        }
        if let seconds = try values.parse("body-timeout", expected: "a number of seconds 1-3600", within(1...3600)) {
            c.bodyTimeout = .seconds(seconds)
        }
        c.durableCommits = try values.parse("durability", expected: "full or normal", { ["full": true, "normal": false][$0] }) ?? c.durableCommits
        if let seconds = try values.parse(
            "notification-stream-seconds", expected: "a number of seconds 1-3600", within(1...3600))
        {
            c.notificationStreamDuration = .seconds(seconds)
        }
        if let minutes = try values.parse("reminder-minutes", expected: "a number of minutes 0-1440 (0: no reminders)", within(0...1440)) {
            c.reminderInterval = minutes == 0 ? nil : .seconds(minutes * 60)
        }
        c.trustedProxies =
            try values.list("trusted-proxy", expected: "addresses or CIDRs (127.0.0.1, 10.0.0.0/8)") { CIDR($0) } ?? c.trustedProxies
        c.metricsPort = try values.parse("metrics-port", expected: "a port number 1-65535", within(1...65535))
        c.backups = try backups(values)
        c.webhooks.allowPrivate = try values.parse("webhook-allow-private", expected: yesOrNo, boolean) ?? false
        if let seconds = try values.parse("webhook-retry-seconds", expected: "a number of seconds 1-3600", within(1...3600)) {
            c.webhooks.retryBase = .seconds(seconds)
        }
        c.webhooks.trustedRoots = try values.text("webhook-ca-file")
        c.mail = try mail(values)
        return c
    }

    /// Scheduled backups: `backup-every` and `backup-keep` only with a `backup-dir`.
    private static func backups(_ values: SettingValues) throws -> BackupSettings? {
        guard let directory = try values.text("backup-dir") else {
            if let stray = try values.value("backup-every") ?? values.value("backup-keep") {
                throw stray.refused("needs a backup directory too (--backup-dir, BANGFU_BACKUP_DIR or backup-dir in the config file)")
            }
            return nil
        }
        let every =
            try values.parse("backup-every", expected: "an interval of 30m, 6h or 1d (a minute to a year)", BackupSettings.interval)
            ?? .seconds(6 * 3600)
        let keep = try values.parse("backup-keep", expected: "a number of backups 1-10000", within(1...10_000)) ?? 14
        return BackupSettings(directory: directory, every: every, keep: keep)
    }

    /// E-mail: `mail-from` only with a `mail-command`.
    private static func mail(_ values: SettingValues) throws -> MailCommand? {
        guard let command = try values.parse("mail-command", expected: "a program and its arguments (msmtp -t)", MailRules.command) else {
            if let stray = try values.value("mail-from") {
                throw stray.refused("needs a mail command too (--mail-command, BANGFU_MAIL_COMMAND or mail-command in the config file)")
            }
            return nil
        }
        let from = try values.parse("mail-from", expected: "an e-mail address", { MailRules.isAddress($0) ? $0 : nil }) ?? "bangfu@localhost.localdomain"
        return MailCommand(command: command, from: from)
    }

    private static let yesOrNo = "true or false (1 or 0, yes or no)"

    private static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes": true
        case "false", "0", "no": false
        default: nil
        }
    }

    /// An integer of `range`, written in decimal digits.
    private static func within<T: FixedWidthInteger>(_ range: ClosedRange<T>) -> (String) -> T? {
        { text in T(text).flatMap { range.contains($0) ? $0 : nil } }
    }
}

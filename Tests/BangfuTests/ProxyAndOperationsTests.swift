import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SQLKit
import Testing

@testable import BangfuApp

/// Issue 22: the client address behind a trusted proxy, JSON logs, backups and restore, and the
/// one-line failures of the command.
@Suite struct ClientAddressTests {
    @Test func networksContainTheirAddresses() throws {
        let v4 = try #require(CIDR("10.1.0.0/16"))
        #expect(v4.contains("10.1.200.3") && !v4.contains("10.2.0.1") && !v4.contains("::1"))
        #expect(v4.contains("::ffff:10.1.2.3"))
        #expect(try #require(CIDR("127.0.0.1")).contains("127.0.0.1") && !(try #require(CIDR("127.0.0.1")).contains("127.0.0.2")))
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains("2001:db8:1::5") && !v6.contains("2001:db9::1"))
        #expect(try #require(CIDR("0.0.0.0/0")).contains("203.0.113.9"))
        for bad in ["", "10.0.0.0/33", "10.0.0/8", "x", "::/129", "10.0.0.0/-1", "10.0.0.0/"] { #expect(CIDR(bad) == nil, "\(bad)") }
    }

    @Test func theRightMostUntrustedHopIsTheClient() throws {
        let trusted = [try #require(CIDR("127.0.0.1")), try #require(CIDR("10.0.0.0/8"))]
        func resolve(_ peer: String, _ header: [String]) -> (String, Bool) {
            let r = ClientAddress.resolve(peer: peer, forwardedFor: header, trusted: trusted)
            return (r.address, r.proxied)
        }
        // Straight from the proxy: nginx appended the real peer.
        #expect(resolve("127.0.0.1", ["203.0.113.7"]) == ("203.0.113.7", true))
        // A forged left part is never believed.
        #expect(resolve("127.0.0.1", ["1.1.1.1, 203.0.113.7"]) == ("203.0.113.7", true))
        // Two proxies: the inner one is trusted too.
        #expect(resolve("127.0.0.1", ["203.0.113.7, 10.0.0.5"]) == ("203.0.113.7", true))
        #expect(resolve("127.0.0.1", ["203.0.113.7", "10.0.0.5"]) == ("203.0.113.7", true))
        // An untrusted peer's header is ignored.
        #expect(resolve("198.51.100.4", ["1.1.1.1"]) == ("198.51.100.4", false))
        // Nothing forwarded, or garbage: the proxy's own address.
        #expect(resolve("127.0.0.1", []) == ("127.0.0.1", true))
        #expect(resolve("127.0.0.1", ["unknown"]) == ("127.0.0.1", true))
        #expect(resolve("127.0.0.1", ["10.0.0.9, 10.0.0.5"]) == ("10.0.0.9", true))
        #expect(ClientAddress.isLoopback("127.0.0.5") && ClientAddress.isLoopback("::1") && !ClientAddress.isLoopback("10.0.0.1"))
    }

    @Test func behindATrustedProxyClientsAreThrottledApartAndMetricsRefused() async throws {
        let test = try await TestApp.make {
            $0.rateLimitPerMinute = 60
            $0.trustedProxies = [CIDR("127.0.0.1")!]
        }
        try await test.run(.live) { client in
            func search(_ forwarded: String) async throws -> UInt {
                UInt(try await client.call(.get, "/api/v1/products?q=%E5%A4%A7%E7%B1%B3", headers: [.xForwardedFor: forwarded]).status.code)
            }
            var first: [UInt] = []
            for _ in 0..<11 { first.append(try await search("203.0.113.7")) }
            #expect(first.prefix(10).allSatisfy { $0 == 200 } && first.last == 429, "\(first)")
            // Another client behind the same proxy has its own allowance.
            #expect(try await search("198.51.100.4") == 200)
            // Through the proxy /metrics is refused even though the proxy is on loopback.
            #expect(try await client.call(.get, "/metrics", headers: [.xForwardedFor: "203.0.113.7"]).status == .forbidden)
        }
    }

    @Test func withoutATrustedProxyForwardedForIsIgnored() async throws {
        let test = try await TestApp.make { $0.rateLimitPerMinute = 60 }
        try await test.run(.live) { client in
            var statuses: [UInt] = []
            for n in 0..<11 {
                statuses.append(
                    UInt(try await client.call(.get, "/api/v1/products?q=%E5%A4%A7%E7%B1%B3", headers: [.xForwardedFor: "203.0.113.\(n)"]).status.code))
            }
            #expect(statuses.last == 429, "\(statuses)")
            // A loopback caller that is no proxy still reads /metrics.
            #expect(try await client.call(.get, "/metrics", headers: [.xForwardedFor: "203.0.113.7"]).status == .ok)
        }
    }
}

@Suite struct JSONLogTests {
    @Test func eachEventIsOneJSONObjectWithItsMetadata() throws {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "bangfu") { label in JSONLogHandler(label: label) { line in lines.withLockedValue { $0.append(line) } } }
        logger[metadataKey: "request_id"] = "r1"
        logger.info("request", metadata: ["status": .stringConvertible(200), "path": "/api/v1/\"quoted\"\n"])
        let captured = lines.withLockedValue { $0 }
        #expect(captured.count == 1 && captured[0].hasSuffix("}\n") && captured[0].filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(captured[0].utf8)) as? [String: String])
        #expect(object["message"] == "request" && object["level"] == "info" && object["label"] == "bangfu")
        #expect(object["request_id"] == "r1" && object["status"] == "200" && object["path"] == "/api/v1/\"quoted\"\n")
        #expect(object["time"]?.hasSuffix("Z") == true)
    }
}

@Suite struct BackupTests {
    @Test func onlyBackupNamesArePruned() {
        #expect(BackupService.isBackupName("bangfu-20261202-081500.sqlite"))
        for other in ["bangfu-notes.sqlite", "bangfu-20261202-081500.sqlite.partial", "bangfu-2026120-0815000.sqlite", "bangfu.sqlite", "x-20261202-081500.sqlite"] {
            #expect(!BackupService.isBackupName(other), "\(other)")
        }
    }

    @Test func intervalsAreParsedAndBounded() {
        #expect(BackupSettings.interval("6h") == .seconds(21600))
        #expect(BackupSettings.interval("30m") == .seconds(1800))
        #expect(BackupSettings.interval("1d") == .seconds(86400))
        #expect(BackupSettings.interval("120") == .seconds(120))
        for bad in ["", "h", "0h", "-1h", "30s", "9223372036854775807d", "6x", "1.5h"] {
            #expect(BackupSettings.interval(bad) == nil, "\(bad)")
        }
    }

    /// Backups are taken, verified and pruned; a restore is refused while a server holds the
    /// data directory, refuses a damaged copy, and puts a good one in place.
    @Test func backupsAreVerifiedPrunedAndRestored() async throws {
        guard TestApp.engine == .sqlite else { return }  // SQLite copies; PostgreSQL has pg_dump
        let test = try await TestApp.make()
        let directory = test.dataDirectory + "/backups"
        let logger = Logger(label: "test")
        let service = BackupService(
            services: test.services, settings: BackupSettings(directory: directory, every: .seconds(3600), keep: 2), logger: logger)
        let box = NIOLockedValueBox<[String]>([])
        try await test.run { client in
            _ = try await client.signUp("before")
            for _ in 0..<3 {
                let path = try await service.takeBackup()
                box.withLockedValue { $0.append(path) }
                test.clock.advance(seconds: 1)
            }
            let taken = box.withLockedValue { $0 }
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: directory + "/bangfu-notes.sqlite"))
            let kept = try FileManager.default.contentsOfDirectory(atPath: directory).filter(BackupService.isBackupName).sorted()
            #expect(FileManager.default.fileExists(atPath: directory + "/bangfu-notes.sqlite"))
            #expect(kept == taken.suffix(2).map { ($0 as NSString).lastPathComponent })
            let mode = try FileManager.default.attributesOfItem(atPath: taken[2])[.posixPermissions] as? Int
            #expect(mode == 0o600)
            _ = try await client.signUp("after")
            // While this server holds the data directory, restore refuses.
            var configuration = AppConfiguration()
            configuration.dataDirectory = test.dataDirectory
            await #expect {
                _ = try await AppServices.restore(from: taken[2], configuration: configuration, logger: logger)
            } throws: { error in
                (error as? OperatorError)?.exitCode == ExitCodes.unavailable
            }
        }
        let taken = box.withLockedValue { $0 }
        // The server has stopped: a damaged copy is refused, a good one restored.
        var configuration = AppConfiguration()
        configuration.dataDirectory = test.dataDirectory
        let damaged = test.dataDirectory + "/damaged.sqlite"
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: damaged))
        let live = test.dataDirectory + "/bangfu.sqlite"
        let before = try Data(contentsOf: URL(fileURLWithPath: live))
        await #expect {
            _ = try await AppServices.restore(from: damaged, configuration: configuration, logger: logger)
        } throws: { error in
            [ExitCodes.dataError, ExitCodes.ioError].contains((error as? OperatorError)?.exitCode ?? OperatorError.describing(error).exitCode)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: live)) == before, "a refused restore changed the database")
        #expect(!FileManager.default.fileExists(atPath: live + ".restoring"))
        // Twice in a row (within one second): each keeps the previous database under its own name.
        let message = try await AppServices.restore(from: taken[2], configuration: configuration, logger: logger)
        #expect(message.contains("restored"))
        _ = try await AppServices.restore(from: taken[2], configuration: configuration, logger: logger)
        let keptCopies = try FileManager.default.contentsOfDirectory(atPath: test.dataDirectory).filter { $0.contains(".before-restore-") }
        #expect(keptCopies.count == 2)
        let database = try await openDatabase(url: nil, dataDirectory: test.dataDirectory, logger: logger)
        let names = try await database.read { db in
            try await db.raw("SELECT username FROM users ORDER BY username").all().map { try $0.decode(column: "username", as: String.self) }
        }
        await database.close()
        #expect(names == ["before"])
    }
}

@Suite struct OperatorErrorTests {
    @Test func failuresAreOneLineWithTheirExitCode() {
        #expect(OperatorError.describing(ConfigurationError("bad URL")).exitCode == ExitCodes.configuration)
        #expect(OperatorError.describing(IOError(errnoCode: EADDRINUSE, reason: "bind")).exitCode == ExitCodes.unavailable)
        #expect(OperatorError.describing(IOError(errnoCode: EADDRINUSE, reason: "bind")).message.contains("--port"))
        #expect(OperatorError.describing(IOError(errnoCode: EACCES, reason: "bind")).exitCode == ExitCodes.permission)
        let missing = CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/x/y.json"])
        #expect(OperatorError.describing(missing).message.contains("/x/y.json"))
        #expect(OperatorError.describing(missing).exitCode == ExitCodes.noInput)
        struct Strange: Error {}
        #expect(OperatorError.describing(Strange()).exitCode == ExitCodes.software)
    }

    @Test func aDataDirectoryOfAnotherUserIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bangfu-owner-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try checkDataDirectory(directory)
        guard geteuid() == 0 else { return }  // only root can give a directory away
        #expect(chown(directory, 65534, 65534) == 0)
        #expect {
            try checkDataDirectory(directory)
        } throws: { error in
            (error as? OperatorError)?.exitCode == ExitCodes.permission && "\(error)".contains("uid 65534")
        }
    }
}

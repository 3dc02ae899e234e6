import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

@Suite struct OperationsTests {
    @Test func healthReadinessAndHeaders() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let health = try await client.call(.get, "/healthz", headers: [.init("X-Request-ID")!: "abc-123"])
            #expect(health.status == .ok)
            #expect(health.object["status"] as? String == "ok")
            #expect(health.headers[.init("X-Request-ID")!] == "abc-123")
            #expect(health.headers[.init("X-Content-Type-Options")!] == "nosniff")
            #expect(health.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            let generated = try await client.call(.get, "/healthz", headers: [.init("X-Request-ID")!: "bad id with spaces"])
            #expect(generated.headers[.init("X-Request-ID")!]?.contains(" ") == false)
            let ready = try await client.call(.get, "/readyz")
            #expect(ready.status == .ok)
        }
    }

    @Test func readinessFollowsMigrations() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            #expect(await Migrations.isCurrent(test.services.database))
            // Migrating again is a no-op.
            let again = try await Migrations.apply(to: test.services.database, now: Date())
            #expect(again.isEmpty)
            // A database that lacks the latest migration is not ready.
            try await test.services.database.write { db in
                try await db.raw("DELETE FROM schema_migrations WHERE version = 1").run()
            }
            let pending = try await client.call(.get, "/readyz")
            #expect(pending.status == .serviceUnavailable)
            try await test.services.database.write { db in
                try await db.raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'x', 0)").run()
            }
            let ready = try await client.call(.get, "/readyz")
            #expect(ready.status == .ok)
        }
    }

    @Test func metricsAreForLoopbackOrAdmins() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            // The router test client has no peer address, so it is not loopback.
            #expect(try await client.call(.get, "/metrics").status == .unauthorized)
            let merchant = try await client.signUp("merchant1")
            #expect(try await client.call(.get, "/metrics", token: merchant).status == .forbidden)
            let admin = try await test.adminToken(client)
            let metrics = try await client.call(.get, "/metrics", token: admin)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("bangfu_http_requests_total"))
            #expect(metrics.text.contains(#"route="/api/v1/me""#) || metrics.text.contains(#"route="/metrics""#))
        }
    }

    @Test func tlsIsServedOnAnEphemeralPortWithAGeneratedCertificate() async throws {
        let test = try await TestApp.make(tls: true)
        try await test.run(.ahc(.https)) { client in
            let health = try await client.call(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.headers[.init("Strict-Transport-Security")!] == "max-age=31536000")
            // Loopback callers may read metrics without signing in.
            #expect(try await client.call(.get, "/metrics").status == .ok)
        }
        let key = test.dataDirectory + "/tls/localhost.key"
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let certificate = try String(contentsOfFile: test.dataDirectory + "/tls/localhost.crt", encoding: .utf8)
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        // A second start reuses the same certificate.
        let again = try TLSMaterial.resolve(certificate: nil, key: nil, dataDirectory: test.dataDirectory, now: Date())
        #expect(!again.generated)
    }

    @Test func webUIIsServed() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let index = try await client.call(.get, "/")
            #expect(index.status == .ok)
            #expect(index.text.contains("帮扶"))
        }
    }

    /// The OpenAPI document and the router must list the same routes.
    @Test func openAPIDocumentCoversEveryRoute() async throws {
        let test = try await TestApp.make()
        let router = buildRouter(services: test.services, logger: .init(label: "t"))
        let served = Set(router.routes.map { "\($0.method.rawValue) \(Self.normalise($0.path.description))" })
        let text = try String(contentsOfFile: repositoryRoot + "/Public/openapi.yaml", encoding: .utf8)
        let documented = Set(Self.operations(inOpenAPI: text))
        #expect(!served.isEmpty)
        #expect(served.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
        try await test.run { client in
            let served = try await client.call(.get, "/openapi.yaml")
            #expect(served.status == .ok)
            #expect(served.text == text)
        }
    }

    /// `/api/v1/counties/:code` and `/api/v1/counties/{code}` both become `/api/v1/counties/{}`.
    static func normalise(_ path: String) -> String {
        let trimmed = path.hasPrefix("/") ? path : "/" + path
        return trimmed.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") || (part.hasPrefix("{") && part.hasSuffix("}")) ? "{}" : String(part)
        }.joined(separator: "/")
    }

    /// Reads `paths:` from the YAML: a path is a two-space-indented key starting with `/`, a method
    /// a four-space-indented HTTP verb below it.
    static func operations(inOpenAPI text: String) -> [String] {
        var result: [String] = []
        var inPaths = false
        var current: String?
        let methods = ["get", "post", "put", "patch", "delete"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = false; continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                current = normalise(String(line.dropFirst(2).dropLast()))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let current {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if methods.contains(String(key)) { result.append("\(key.uppercased()) \(current)") }
            }
        }
        return result
    }
}

@Suite struct ReferenceTests {
    @Test func countiesAndCategoriesAreLoaded() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let counties = try await client.call(.get, "/api/v1/counties")
            #expect(counties.array.count == 28)
            let yanshou = counties.array.first { $0["code"] as? String == "230129" }
            #expect(yanshou?["name"] as? String == "延寿县")
            #expect(yanshou?["level"] as? String == "national")
            #expect(counties.array.filter { $0["level"] as? String == "national" }.count == 20)
            let categories = try await client.call(.get, "/api/v1/categories")
            let rice = categories.array.first { $0["name"] as? String == "大米" }
            let grain = categories.array.first { $0["name"] as? String == "粮油" }
            #expect(rice?["parentId"] as? String == grain?["id"] as? String)
            #expect(grain?["parentId"] is NSNull)
            #expect(categories.array.filter { $0["parentId"] is NSNull }.count == 13)
        }
    }

    @Test func adminsAddAndCorrectCountiesAndLoadingKeepsCorrections() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let newCounty = #"{"code":"150121","name":"土默特左旗","prefecture":"呼和浩特市","province":"内蒙古自治区","level":"national"}"#
            #expect(try await client.call(.post, "/api/v1/counties", json: newCounty).status == .unauthorized)
            let merchant = try await client.signUp("merchant1")
            #expect(try await client.call(.post, "/api/v1/counties", token: merchant, json: newCounty).status == .forbidden)
            #expect(try await client.call(.patch, "/api/v1/counties/230129", token: merchant, json: #"{"name":"x"}"#).status == .forbidden)
            let admin = try await test.adminToken(client)
            let created = try await client.call(.post, "/api/v1/counties", token: admin, json: newCounty)
            #expect(created.status == .created)
            #expect(created.object["province"] as? String == "内蒙古自治区")
            #expect(try await client.call(.post, "/api/v1/counties", token: admin, json: newCounty).status == .conflict)
            let bad = try await client.call(
                .post, "/api/v1/counties", token: admin, json: #"{"code":"12","name":"","level":"county"}"#)
            #expect(Set(bad.fields) == ["code", "name", "prefecture", "province", "level"])

            let patched = try await client.call(
                .patch, "/api/v1/counties/230126", token: admin, json: #"{"level":"national"}"#)
            #expect(patched.status == .ok)
            #expect(patched.object["level"] as? String == "national")
            #expect(patched.object["name"] as? String == "巴彦县")
            #expect(try await client.call(.patch, "/api/v1/counties/999999", token: admin, json: #"{"name":"x"}"#).status == .notFound)
            #expect(try await client.call(.patch, "/api/v1/counties/230126", token: admin, json: #"{"name":""}"#).status == .unprocessableContent)
            #expect(try await client.call(.patch, "/api/v1/counties/230126", token: admin, json: #"{"code":"230127"}"#).status == .unprocessableContent)

            // Loading Catalog/ again (every start does) keeps the correction.
            try await test.services.prepare(logger: .init(label: "t"))
            let counties = try await client.call(.get, "/api/v1/counties")
            #expect(counties.array.count == 29)
            #expect(counties.array.first { $0["code"] as? String == "230126" }?["level"] as? String == "national")
        }
    }
}

@Suite struct StorageTests {
    @Test func sqliteFilesAreOwnerOnly() async throws {
        let test = try await TestApp.make()
        guard test.services.database.engine == .sqlite else { return }
        try await test.run { client in
            _ = try await client.signUp("merchant1")
            let mode = try FileManager.default.attributesOfItem(atPath: test.dataDirectory + "/bangfu.sqlite")[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
        }
    }

    /// Commits are fsynced (`synchronous=FULL` = 2) unless the operator chooses `normal` (1), the
    /// writer checkpoints every 10,000 WAL pages, and a WAL grown past 64 MiB is cut back.
    @Test func sqliteCommitsAreDurableByDefaultAndCheckpointsRarely() async throws {
        for (durable, expected) in [(true, Int64(2)), (false, Int64(1))] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bangfu-sync-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = try await openDatabase(url: nil, dataDirectory: directory, durableCommits: durable, logger: .init(label: "t"))
            let (level, checkpoint, limit) = try await database.write { db in
                (
                    try await db.raw("PRAGMA synchronous").first()!.decode(column: "synchronous", as: Int64.self),
                    try await db.raw("PRAGMA wal_autocheckpoint").first()!.decode(column: "wal_autocheckpoint", as: Int64.self),
                    try await db.raw("PRAGMA journal_size_limit").first()!.decode(column: "journal_size_limit", as: Int64.self)
                )
            }
            await database.close()
            #expect(level == expected)
            // Checkpoints every 10,000 pages, not SQLite's 1,000: a page rewritten by many
            // commits (a product's stock, a plan's sums) is copied into the database once.
            #expect(checkpoint == 10_000)
            #expect(limit == 64 << 20)
        }
    }

    @Test func writeTransactionsRollBackWhole() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await test.services.database.write { db in
                    try await db.raw("INSERT INTO counties (code, name, prefecture, province, level, created_at) VALUES ('999999', 'x', 'x', 'x', 'national', 0)").run()
                    throw Boom()
                }
            }
            let count = try await test.services.database.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM counties WHERE code = '999999'").first()!.decode(column: "n", as: Int64.self)
            }
            #expect(count == 0)
        }
    }

    /// Many concurrent write transactions that each read-modify-write one counter: if two ever
    /// interleaved, an increment would be lost.
    @Test func writeTransactionsNeverInterleave() async throws {
        let test = try await TestApp.make()
        let engine = test.services.database.engine
        try await test.run { _ in
            try await test.services.database.write { db in
                try await db.raw("CREATE TABLE counter_probe (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)").run()
                try await db.raw("INSERT INTO counter_probe VALUES (1, 0)").run()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await test.services.database.write { db in
                            // PostgreSQL needs a row lock for read-modify-write; SQLite's single writer is enough.
                            let lock = engine == .postgres ? " FOR UPDATE" : ""
                            let n = try await db.raw("SELECT n FROM counter_probe WHERE id = 1\(unsafeRaw: lock)").first()!
                                .decode(column: "n", as: Int64.self)
                            try await Task.sleep(for: .milliseconds(1))
                            try await db.raw("UPDATE counter_probe SET n = \(bind: n + 1) WHERE id = 1").run()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let n = try await test.services.database.read { db in
                try await db.raw("SELECT n FROM counter_probe WHERE id = 1").first()!.decode(column: "n", as: Int64.self)
            }
            #expect(n == 50)
        }
    }
}

import Foundation
import Hummingbird
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Prometheus
import SQLKit
import Testing

@testable import BangfuApp

/// The repository root, for `Catalog/` and `Public/`.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// The directory holding every `TestApp`'s data directory in this test process, removed when the
/// process exits (one directory per test had piled up in the temporary directory, thousands a
/// day). Servers are still open then, which Linux allows.
let testDataRoot: String = {
    let temporary = FileManager.default.temporaryDirectory
    // Roots of test processes that did not exit normally (interrupted, crashed) go too.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("bangfu-tests-") {
        if let pid = pid_t(name.dropFirst("bangfu-tests-".count)), kill(pid, 0) != 0, errno == ESRCH {
            try? FileManager.default.removeItem(atPath: temporary.appendingPathComponent(name).path)
        }
    }
    let root = temporary.appendingPathComponent("bangfu-tests-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { removeTestDataRoot() }
    return root
}()

private func removeTestDataRoot() {
    try? FileManager.default.removeItem(atPath: testDataRoot)
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let value: NIOLockedValueBox<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) { value = NIOLockedValueBox(start) }
    var now: Date { value.withLockedValue { $0 } }
    func advance(seconds: Double) { value.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
    var appClock: AppClock { AppClock { [value] in value.withLockedValue { $0 } } }
}

/// One isolated server per test: a fresh SQLite file in a temporary directory, or, when
/// `BANGFU_TEST_DATABASE_URL` names PostgreSQL, a fresh schema in that database.
struct TestApp {
    let services: AppServices
    let clock: TestClock
    let app: Application<RouterResponder<AppRequestContext>>
    let dataDirectory: String

    static func make(
        tls: Bool = false, capturingLogs lines: NIOLockedValueBox<[String]>? = nil,
        configure: (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> TestApp {
        let clock = TestClock()
        let directory = URL(fileURLWithPath: testDataRoot).appendingPathComponent("bangfu-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = AppConfiguration()
        configuration.dataDirectory = directory
        // Public/ and Catalog/ as built into the binary (the operator's default); tests of the
        // directory overrides set them.
        configuration.clock = clock.appClock
        configuration.tls = tls
        configuration.port = 0
        configuration.logLevel = .warning
        configuration.rateLimitPerMinute = 0  // RateLimitTests turns it on
        // Inbox streams end soon, so a sweep over every route never waits on one.
        configuration.notificationStreamDuration = .milliseconds(400)
        configuration.notificationHeartbeat = .milliseconds(100)
        // Reminders are sent by the tests that ask for them (`Reminders.sendDue`).
        configuration.reminderInterval = nil
        // Webhooks are sent by the tests that ask for it (`WebhookDelivery.pass`).
        configuration.webhooks.pollInterval = nil
        configuration.databaseURL = try await testDatabaseURL()
        configure(&configuration)
        var logger =
            lines.map { lines in Logger(label: "bangfu-test") { _ in CapturingLogHandler(lines: lines) } }
            ?? Logger(label: "bangfu-test")
        logger.logLevel = lines == nil ? .warning : .trace
        let database = try await openDatabase(url: configuration.databaseURL, dataDirectory: directory, logger: logger)
        let services = AppServices(configuration: configuration, database: database, registry: PrometheusCollectorRegistry())
        return TestApp(services: services, clock: clock, app: try makeApplication(services: services, logger: logger), dataDirectory: directory)
    }

    /// Runs `body` against the app through the router (no sockets), the way most tests do.
    func run(_ setup: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await app.test(setup, body)
    }

    static var engine: DatabaseEngine {
        ProcessInfo.processInfo.environment["BANGFU_TEST_DATABASE_URL"] == nil ? .sqlite : .postgres
    }

    /// For PostgreSQL: creates a schema of its own for this test and names it in the URL.
    static func testDatabaseURL() async throws -> String? {
        guard let base = ProcessInfo.processInfo.environment["BANGFU_TEST_DATABASE_URL"] else { return nil }
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try PostgresDatabase(url: base, logger: Logger(label: "test-admin"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.client.run() }
            try await admin.read { db in try await db.raw("CREATE SCHEMA \(unsafeRaw: schema)").run() }
            group.cancelAll()
        }
        return base + (base.contains("?") ? "&" : "?") + "search_path=\(schema)"
    }
}

// MARK: - HTTP helpers

extension TestClientProtocol {
    /// Sends `json` (raw JSON text) with the bearer token, if any.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil && headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Registers a merchant or buyer and signs in; answers the token.
    func signUp(_ username: String, role: String = "merchant", password: String = "correct horse 1") async throws -> String {
        let created = try await call(
            .post, "/api/v1/users",
            json: #"{"username":"\#(username)","password":"\#(password)","role":"\#(role)","displayName":"\#(username)"}"#)
        #expect(created.status == .created)
        return try await signIn(username, password: password)
    }

    func signIn(_ username: String, password: String = "correct horse 1") async throws -> String {
        let response = try await call(
            .post, "/api/v1/sessions", json: #"{"username":"\#(username)","password":"\#(password)"}"#)
        #expect(response.status == .created, "sign-in of \(username) answered \(response.status)")
        return try #require(response.object["token"] as? String)
    }
}

extension TestApp {
    /// Creates an admin directly (as `bangfu user add` does) and answers its token.
    func adminToken(_ client: any TestClientProtocol, username: String = "admin") async throws -> String {
        _ = try await services.addUser(
            username: username, password: "correct horse 1", role: .admin, displayName: "管理员", countyCode: nil)
        return try await client.signIn(username)
    }
}

extension TestResponse {
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
    var array: [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [[String: Any]] ?? []
    }
    var text: String { String(buffer: body) }
    var code: String? { object["code"] as? String }
    var fields: [String] { (object["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
}

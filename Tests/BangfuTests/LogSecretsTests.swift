import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import BangfuApp

/// Keeps every log line (message and metadata) for inspection.
struct CapturingLogHandler: LogHandler {
    let lines: NIOLockedValueBox<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.withLockedValue { $0.append("\(event.message) \(all) \(event.error.map { "\($0)" } ?? "")") }
    }
}

@Suite struct LogSecretsTests {
    /// Even at trace level, no log line holds a password, a session token or a bank account.
    @Test func logsNeverHoldSecrets() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        let test = try await TestApp.make(capturingLogs: lines)
        let tokens = NIOLockedValueBox<[String]>([])
        let password = "correct horse 1"
        let wrong = "wrong horse 22"
        try await test.run { client in
            let cast = try await Cast.make(test, client)
            _ = try await client.call(.post, "/api/v1/sessions", json: #"{"username":"coop1","password":"\#(wrong)"}"#)
            _ = try await client.apply(cast.merchant)
            _ = try await client.call(.get, "/api/v1/me", token: cast.merchant)
            tokens.withLockedValue { $0 = [cast.admin, cast.merchant, cast.yanshouOfficer, cast.buyer] }
        }
        let captured = tokens.withLockedValue { $0 }
        #expect(captured.count == 4)
        let log = lines.withLockedValue { $0 }.joined(separator: "\n")
        #expect(log.contains("request"), "nothing was captured")
        for secret in [password, wrong, "62284800123456789", "6228 4800 1234 5678 9"] + captured {
            #expect(!log.contains(secret), "a log line holds \(secret.prefix(6))…")
        }
    }
}

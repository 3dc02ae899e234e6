import Foundation
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import ServiceLifecycle

/// PostgreSQL through PostgresNIO's pooled `PostgresClient`. The client must run as a service
/// (`run()`), which `buildApplication` arranges.
public final class PostgresDatabase: Database {
    public var engine: DatabaseEngine { .postgres }
    public let client: PostgresClient
    private let logger: Logger

    /// `url`: `postgres://user:password@host:port/database?sslmode=disable|prefer|require&search_path=schema`.
    public init(url: String, logger: Logger) throws {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw ConfigurationError("the database URL does not parse: give --database postgres://USER:PASSWORD@HOST:5432/DATABASE")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let tls: PostgresClient.Configuration.TLS =
            switch query["sslmode"] ?? "prefer" {
            case "disable": .disable
            case "require", "verify-full": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: components.path.count > 1 ? String(components.path.dropFirst()) : nil,
            tls: tls
        )
        if let schema = query["search_path"], !schema.isEmpty {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        if let max = query["pool_max"].flatMap(Int.init) {
            configuration.options.maximumConnections = max
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: nil))
        }
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await SQLTransaction.run(on: connection.sql(queryLogLevel: nil), body)
        }
    }

    public func close() async {}
}

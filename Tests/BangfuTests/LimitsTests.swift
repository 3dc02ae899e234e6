import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BangfuApp

@Suite struct TokenBucketTests {
    @Test func aBucketAllowsItsBurstThenRefillsAtItsRate() {
        let start = Date(timeIntervalSince1970: 0)
        var bucket = TokenBucket(tokens: 3, updated: start)
        for _ in 0..<3 { #expect(bucket.take(at: start, capacity: 3, perMinute: 60) == nil) }
        // Empty: one token a second at 60 a minute.
        #expect(bucket.take(at: start, capacity: 3, perMinute: 60) == 1)
        #expect(bucket.take(at: start.addingTimeInterval(0.5), capacity: 3, perMinute: 60) == 0.5)
        #expect(bucket.take(at: start.addingTimeInterval(1), capacity: 3, perMinute: 60) == nil)
        // Never more than the capacity, however long it rested; a clock going back adds nothing.
        #expect(bucket.take(at: start.addingTimeInterval(3600), capacity: 3, perMinute: 60) == nil)
        #expect(bucket.tokens == 2)
        #expect(bucket.take(at: start, capacity: 3, perMinute: 60) == nil)
        #expect(bucket.tokens == 1)
    }

    @Test func addressesHaveBucketsOfTheirOwnAndZeroMeansOff() {
        let now = Date(timeIntervalSince1970: 0)
        let limiter = RateLimiter(perMinute: 60)
        #expect(limiter.capacity == 10)
        for _ in 0..<10 { #expect(limiter.check("10.0.0.1", at: now) == nil) }
        #expect(limiter.check("10.0.0.1", at: now) != nil)
        #expect(limiter.check("10.0.0.2", at: now) == nil)
        let off = RateLimiter(perMinute: 0)
        for _ in 0..<1000 { #expect(off.check("10.0.0.1", at: now) == nil) }
    }
}

@Suite struct LimitsTests {
    @Test func expensiveRoutesAreLimitedPerAddressWithRetryAfter() async throws {
        let test = try await TestApp.make { $0.rateLimitPerMinute = 60 }
        try await test.run { client in
            for _ in 0..<10 { #expect(try await client.call(.get, "/api/v1/products?q=大米").status == .ok) }
            let limited = try await client.call(.get, "/api/v1/products?q=大米")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.code == "rate_limited")
            #expect(limited.headers[.retryAfter] == "1")
            // The same allowance covers CSV exports and registration; cheap routes are not limited.
            #expect(try await client.call(.get, "/api/v1/certificates?format=csv").status == .tooManyRequests)
            #expect(try await client.call(.post, "/api/v1/users", json: "{}").status == .tooManyRequests)
            #expect(try await client.call(.get, "/api/v1/products").status == .ok)
            #expect(try await client.call(.get, "/api/v1/categories").status == .ok)
            test.clock.advance(seconds: 1)
            #expect(try await client.call(.get, "/api/v1/products?q=大米").status == .ok)
            #expect(try await client.call(.get, "/api/v1/products?q=大米").status == .tooManyRequests)
        }
    }

    @Test func slowHeadsAndBodiesAreCutOffAndOversizedHeadsRefused() async throws {
        let test = try await TestApp.make {
            // Deadlines well inside the 5 s waits below, yet long enough that a loaded CI machine
            // does not miss them between two parts of one request.
            $0.headTimeout = .seconds(1)
            $0.bodyTimeout = .seconds(1)
        }
        try await test.run(.live) { client in
            let port = try #require(client.port)
            // A whole request is answered.
            let whole = try await RawConnection.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", wait: .seconds(1))
            #expect(whole.text.hasPrefix("HTTP/1.1 200"))
            // A head that never ends, a body that never ends, a connection that says nothing: closed.
            let slowHead = try await RawConnection.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", wait: .seconds(5))
            #expect(slowHead.closed && slowHead.text.isEmpty)
            let slowBody = try await RawConnection.exchange(
                port: port, "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
                wait: .seconds(5))
            #expect(slowBody.closed && !slowBody.text.contains("201"))
            let silent = try await RawConnection.exchange(port: port, "", wait: .seconds(5))
            #expect(silent.closed)
            // Refused before its body was read (401), then the body trickles in: the connection
            // is still closed once the next head is overdue.
            let refused = try await RawConnection.exchange(
                port: port,
                ["POST /api/v1/products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n", "{}"],
                wait: .seconds(5))
            #expect(refused.closed && refused.text.hasPrefix("HTTP/1.1 401"))
            // A 40 KiB header is refused without an answer from any route.
            let big = String(repeating: "a", count: 40 * 1024)
            let oversized = try await RawConnection.exchange(
                port: port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n", wait: .seconds(5))
            #expect(oversized.closed && !oversized.text.contains("200 OK"))
        }
    }
}

/// A plain TCP client that writes `request` and collects what comes back until the server
/// closes the connection or `wait` passes.
enum RawConnection {
    static func exchange(port: Int, _ request: String, wait: Duration) async throws -> (text: String, closed: Bool) {
        try await exchange(port: port, [request], wait: wait)
    }

    /// Writes `parts` 100 ms apart. A write the server refuses because it has already closed
    /// the connection ends the writing, not the exchange: what it answered before is still read.
    /// The answer holds everything received until the server closed or `wait` passed, so a slow
    /// machine changes neither the text nor whether the connection counts as closed.
    static func exchange(port: Int, _ parts: [String], wait: Duration) async throws -> (text: String, closed: Bool) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            writing: for (index, part) in parts.enumerated() where !part.isEmpty {
                if index > 0 { try await Task.sleep(for: .milliseconds(100)) }
                do { try await outbound.write(ByteBuffer(string: part)) } catch { break writing }
            }
            let received = Received()
            let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        for try await chunk in inbound { received.append(String(buffer: chunk)) }
                    } catch {}
                    return true
                }
                group.addTask {
                    try? await Task.sleep(for: wait)
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            return (text: received.text, closed: closed)
        }
    }

    /// Text shared between the reading task and the one that returns it.
    private final class Received: Sendable {
        private let storage = Mutex("")
        func append(_ text: String) { storage.withLock { $0 += text } }
        var text: String { storage.withLock { $0 } }
    }
}

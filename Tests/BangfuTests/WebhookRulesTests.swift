import Foundation
import Testing

@testable import BangfuApp

@Suite struct WebhookRulesTests {
    @Test(arguments: [
        ("https://erp.example.cn/hooks/bangfu", "erp.example.cn", 443),
        ("HTTPS://ERP.example.cn:8443/x?y=1", "erp.example.cn", 8443),
        ("https://[2001:4860::8888]/in", "2001:4860::8888", 443),
        ("  https://93.184.215.14/  ", "93.184.215.14", 443),
    ])
    func acceptedTargets(url: String, host: String, port: Int) throws {
        let target = try WebhookRules.target(url).get()
        #expect(target.host == host && target.port == port)
    }

    @Test(arguments: [
        ("", WebhookRules.TargetProblem.empty),
        ("http://erp.example.cn/hook", .notHTTPS),
        ("ftp://erp.example.cn/hook", .notHTTPS),
        ("erp.example.cn/hook", .malformed),
        ("https://", .malformed),
        ("https://user:pw@erp.example.cn/", .credentials),
        ("https://erp.example.cn/" + String(repeating: "a", count: 2100), .tooLong),
    ])
    func refusedTargets(url: String, problem: WebhookRules.TargetProblem) {
        #expect(throws: problem) { try WebhookRules.target(url).get() }
    }

    @Test func eventsAreKnownAtLeastOneEachOnceInTheirOrder() throws {
        #expect(try WebhookRules.events(["order.shipped", "order.placed", "order.shipped"]).get() == ["order.placed", "order.shipped"])
        #expect(throws: WebhookRules.EventsProblem.empty) { try WebhookRules.events([]).get() }
        #expect(throws: WebhookRules.EventsProblem.unknown("order.teleported")) {
            try WebhookRules.events(["order.placed", "order.teleported"]).get()
        }
    }

    @Test(arguments: [
        ("93.184.215.14", true), ("8.8.8.8", true), ("2001:4860:4860::8888", true),
        ("127.0.0.1", false), ("10.0.0.5", false), ("172.16.0.1", false), ("172.31.255.255", false), ("172.32.0.1", true),
        ("192.168.1.1", false), ("169.254.169.254", false), ("100.64.0.1", false), ("100.128.0.1", true), ("0.0.0.0", false),
        ("198.18.0.1", false), ("203.0.113.9", false), ("224.0.0.1", false), ("255.255.255.255", false),
        ("::1", false), ("::", false), ("::ffff:127.0.0.1", false), ("::ffff:93.184.215.14", true), ("fe80::1", false),
        ("fd00::1", false), ("ff02::1", false), ("2001:db8::1", false), ("64:ff9b::a00:5", false), ("2002:a00:5::1", false),
    ])
    func onlyPublicAddresses(address: String, isPublic: Bool) throws {
        let bytes = try #require(HostResolver.literal(address))
        #expect(WebhookRules.isPublic(bytes) == isPublic)
    }

    @Test func theSignatureIsTheHexHMACOfTimeDotBody() {
        // python3: hmac.new(b'whsec_test', b'1795000000.{"id":"e1"}', hashlib.sha256).hexdigest()
        let expected = "t=1795000000,v1=fddbd4be3580eeccfcaaa22ef677a5ffbd1e5ecfd1dae85f757c61ec5845ca38"
        #expect(WebhookRules.signature(secret: "whsec_test", timestamp: 1_795_000_000, body: Array(#"{"id":"e1"}"#.utf8)) == expected)
    }

    @Test func retriesDoubleFromOneMinuteAndTheLastIsWhenTheDayEnds() throws {
        let created = Date(timeIntervalSince1970: 1_000_000)
        var now = created
        var delays: [TimeInterval] = []
        for failures in Int64(1)... {
            guard let next = Backoff.next(afterFailures: failures, base: 60, createdAt: created, now: now) else { break }
            delays.append(next.timeIntervalSince(now))
            now = next
        }
        #expect(Array(delays.prefix(11)) == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 24 * 3600 - 61380])
        #expect(now.timeIntervalSince(created) == 24 * 3600 && delays.count == 11)
        // A huge count of failures neither overflows nor goes beyond the day.
        #expect(Backoff.next(afterFailures: .max, base: 60, createdAt: created, now: created) == created.addingTimeInterval(24 * 3600))
    }
}

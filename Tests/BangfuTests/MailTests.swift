import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

@testable import BangfuApp

@Suite struct MailRulesTests {
    @Test(arguments: [
        ("canteen@example.cn", true), ("a.b+c@mail.example.com.cn", true), ("x@y.z", true),
        ("", false), ("no-at.example.cn", false), ("two@@example.cn", false), ("a@b@example.cn", false),
        ("a@localhost", false), ("a@.example.cn", false), ("a@example.cn.", false), ("a @example.cn", false),
        ("a@example.cn\r\nBcc: x@evil.cn", false), ("<a@example.cn>", false), ("\"a\"@example.cn", false),
    ])
    func addresses(text: String, accepted: Bool) {
        #expect(MailRules.isAddress(text) == accepted)
    }

    @Test func theCommandSplitsOnSpacesKeepingQuotedWords() {
        #expect(MailRules.command("msmtp -t") == ["msmtp", "-t"])
        #expect(MailRules.command(#"  msmtp   --from="Bangfu 平台" -t "#) == ["msmtp", "--from=Bangfu 平台", "-t"])
        #expect(MailRules.command(#"sendmail """#) == ["sendmail", ""])
        #expect(MailRules.command(#"msmtp "-t"#) == nil)
        #expect(MailRules.command("   ") == nil)
    }

    /// Decodes `=?UTF-8?B?…?=` words back to text.
    static func decode(_ header: String) -> String {
        header.components(separatedBy: "\r\n ").map { word -> String in
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return word }
            let base64 = String(word.dropFirst(10).dropLast(2))
            return Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }.joined()
    }

    @Test func aChineseSubjectIsEncodedInWordsOfAtMost75CharactersThatDecodeToIt() {
        let subject = "【帮扶】" + String(repeating: "县级已推荐的商户入驻申请", count: 4)
        let header = MailRules.encodedWord(subject)
        #expect(header.components(separatedBy: "\r\n ").allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") })
        #expect(Self.decode(header) == subject)
        #expect(MailRules.encodedWord("Order placed") == "Order placed")
    }

    @Test func theMessageHasItsHeadersThenABase64UTF8Body() throws {
        let text = MailRules.message(
            from: "bangfu@example.cn", to: "shop@example.cn", subject: "【帮扶】新订单", body: "订单 X，金额 20.00 元",
            date: Date(timeIntervalSince1970: 1_795_000_000), id: "m1")
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 2)
        let headers = parts[0].components(separatedBy: "\r\n")
        #expect(headers.contains("To: shop@example.cn") && headers.contains("From: bangfu@example.cn"))
        #expect(headers.contains("Date: Wed, 18 Nov 2026 11:06:40 +0000"))  // Python: email.utils.formatdate(1795000000)
        let subject = try #require(headers.first { $0.hasPrefix("Subject: ") })
        #expect(Self.decode(String(subject.dropFirst(9))) == "【帮扶】新订单")
        let body = Data(base64Encoded: parts[1].replacingOccurrences(of: "\r\n", with: ""))
        #expect(body.map { String(decoding: $0, as: UTF8.self) } == "订单 X，金额 20.00 元")
    }
}

/// A mail system in the test's hands: it keeps every message, refusing the first `refusals`.
final class RecordingMail: MailTransport {
    struct Refused: Error {}
    private let sent = NIOLockedValueBox<[String]>([])
    private let refusals = NIOLockedValueBox(0)

    init(refusing count: Int = 0) { refusals.withLockedValue { $0 = count } }

    var messages: [String] { sent.withLockedValue { $0 } }

    func send(_ message: String) async throws {
        let refuse = refusals.withLockedValue { left in
            defer { left = max(0, left - 1) }
            return left > 0
        }
        if refuse { throw Refused() }
        sent.withLockedValue { $0.append(message) }
    }
}

@Suite struct MailTests {
    static func withMail(_ configuration: inout AppConfiguration) {
        var mail = MailCommand(command: ["true"], from: "bangfu@example.cn")
        mail.pollInterval = nil
        configuration.mail = mail
    }

    @Test func settingsAreTheCallersOwnAndChecked() async throws {
        let test = try await TestApp.make(configure: Self.withMail)
        try await test.run { client in
            let market = try await Market.make(test, client)
            let empty = try await client.call(.get, "/api/v1/notifications/settings", token: market.shop.token)
            #expect(empty.object["email"] is NSNull && (empty.object["mutedKinds"] as? [String]) == [])
            let saved = try await client.call(
                .put, "/api/v1/notifications/settings", token: market.shop.token,
                json: #"{"email":"shop@example.cn","mutedKinds":["order.cancelled","order.placed","order.cancelled"]}"#)
            #expect(saved.status == .ok && saved.object["email"] as? String == "shop@example.cn")
            #expect(saved.object["mutedKinds"] as? [String] == ["order.cancelled", "order.placed"])
            // Another user's settings are untouched.
            let other = try await client.call(.get, "/api/v1/notifications/settings", token: market.other.token)
            #expect(other.object["email"] is NSNull)
            for (body, field) in [
                (#"{"email":"shop@example.cn\r\nBcc: all@example.cn"}"#, "email"), (#"{"email":"not an address"}"#, "email"),
                (#"{"mutedKinds":["order.teleported"]}"#, "mutedKinds"),
            ] {
                let refused = try await client.call(.put, "/api/v1/notifications/settings", token: market.shop.token, json: body)
                #expect(refused.status == .unprocessableContent && refused.text.contains("\"\(field)\""), "\(body): \(refused.text)")
            }
            let kept = try await client.call(.get, "/api/v1/notifications/settings", token: market.shop.token)
            #expect(kept.object["email"] as? String == "shop@example.cn")
            #expect(try await client.call(.get, "/api/v1/notifications/settings").status == .unauthorized)
        }
    }

    @Test func aNotificationIsMailedToWhoGaveAnAddressUnlessMutedAndRetried() async throws {
        let test = try await TestApp.make(configure: Self.withMail)
        try await test.run { client in
            let market = try await Market.make(test, client)
            _ = try await client.call(
                .put, "/api/v1/notifications/settings", token: market.shop.token,
                json: #"{"email":"shop@example.cn","mutedKinds":["order.accepted"]}"#)
            // The canteen gave no address: its notifications are not mailed.
            let order = try #require(try await client.place(market.canteen.token, [(market.rice, 2)]).orderIds.first)
            try await client.walk(order, buyer: market.canteen.token, merchant: market.shop.token, to: "accepted", amountFen: 2_000)
            let counts = try await test.services.database.read { db in try await test.services.mail.counts(in: db) }
            #expect(counts == ["pending": 1], "the placement only: acceptance is muted, the canteen has no address")

            let mail = RecordingMail(refusing: 1)
            let mailer = Mailer(services: test.services, transport: mail, from: "bangfu@example.cn", logger: .init(label: "test"))
            #expect(try await mailer.pass() == 1)
            let again = try await mailer.pass()
            #expect(mail.messages.isEmpty && again == 0, "refused, then not due before a minute")
            test.clock.advance(seconds: 61)
            #expect(try await mailer.pass() == 1)
            let message = try #require(mail.messages.first)
            #expect(message.contains("To: shop@example.cn\r\n") && message.contains("From: bangfu@example.cn\r\n"))
            let subject = try #require(message.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") })
            #expect(MailRulesTests.decode(String(subject.dropFirst(9))) == "【帮扶】新订单")
            let final = try await test.services.database.read { db in try await test.services.mail.counts(in: db) }
            #expect(final == ["sent": 1])
        }
    }

    @Test func withoutAMailCommandNothingIsQueued() async throws {
        let test = try await TestApp.make()
        try await test.run { client in
            let market = try await Market.make(test, client)
            _ = try await client.call(.put, "/api/v1/notifications/settings", token: market.shop.token, json: #"{"email":"shop@example.cn"}"#)
            _ = try await client.place(market.canteen.token, [(market.rice, 1)])
            #expect(try await test.services.database.read { db in try await test.services.mail.counts(in: db) }.isEmpty)
        }
    }

    @Test func theCommandReadsTheMessageOnItsStandardInputAndAFailureIsAnError() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bangfu-mail-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await CommandMailTransport(command: ["sh", "-c", "cat > \(file)"]).send("Subject: x\r\n\r\nhello\r\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "Subject: x\r\n\r\nhello\r\n")
        await #expect(throws: CommandMailTransport.Refused.self) {
            try await CommandMailTransport(command: ["sh", "-c", "echo 'no route to host' >&2; exit 75"]).send("x")
        }
    }
}

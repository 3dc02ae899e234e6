import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

@Suite struct RemindersTests {
    /// The notifications of `kind` about `subjectId` in the caller's inbox.
    func reminders(_ client: any TestClientProtocol, _ token: String, _ kind: String, about subjectId: String) async throws -> Int {
        try await client.inbox(token, query: "?limit=100").items
            .filter { $0["kind"] as? String == kind && $0["subjectId"] as? String == subjectId }.count
    }

    /// Sessions that outlive the weeks the tests move the clock by.
    static func longSessions(_ configuration: inout AppConfiguration) {
        configuration.sessionLifetime = .seconds(400 * 86_400)
    }

    @Test func dueRemindersReachWhoMustActOnceWhateverTheNumberOfPasses() async throws {
        let test = try await TestApp.make(configure: Self.longSessions)
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop, market.canteen)
            let reminders = Reminders(test.services)
            let orderId = try #require(try await client.place(canteen.token, [(market.rice, 2)], shipWithinDays: 15).orderIds.first)
            // The canteen's plan is behind its line in November: reminded once this week, however
            // many passes run (two at once here); the shipment is not due yet.
            async let first = reminders.sendDue()
            async let second = reminders.sendDue()
            _ = try await (first, second)
            #expect(try await reminders.sendDue() == 0)
            let organization = canteen.organizationId
            #expect(try await self.reminders(client, canteen.token, "reminder.behind_schedule", about: organization) == 1)
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_overdue", about: orderId) == 0)

            // Sixteen days on: the shipment is overdue and it is another week.
            test.clock.advance(seconds: 16 * 86_400)
            async let third = reminders.sendDue()
            async let fourth = reminders.sendDue()
            _ = try await (third, fourth)
            #expect(try await reminders.sendDue() == 0)
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_overdue", about: orderId) == 1)
            #expect(try await self.reminders(client, canteen.token, "reminder.behind_schedule", about: organization) == 2)
            #expect(try await self.reminders(client, canteen.token, "reminder.shipment_overdue", about: orderId) == 0)

            // Accepted and not paid within 30 days: the buyer's members are told, once.
            try await client.walk(orderId, buyer: canteen.token, merchant: shop.token, to: "accepted", amountFen: 2_000)
            test.clock.advance(seconds: 31 * 86_400)
            #expect(try await reminders.sendDue() >= 1)
            #expect(try await reminders.sendDue() == 0)
            #expect(try await self.reminders(client, canteen.token, "reminder.payment_overdue", about: orderId) == 1)
            #expect(try await self.reminders(client, shop.token, "reminder.payment_overdue", about: orderId) == 0)
        }
    }

    @Test func shipmentsAndPaymentsFallingDueAreRemindedAheadOnce() async throws {
        let test = try await TestApp.make(configure: Self.longSessions)
        try await test.run { client in
            let market = try await Market.make(test, client)
            let (shop, canteen) = (market.shop, market.canteen)
            let reminders = Reminders(test.services)
            let orderId = try #require(try await client.place(canteen.token, [(market.rice, 2)], shipWithinDays: 15).orderIds.first)
            test.clock.advance(seconds: 13 * 86_400)
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_due", about: orderId) == 0)
            // Within a day of the latest shipping date: the merchant is told ahead, once.
            test.clock.advance(seconds: 1.5 * 86_400)
            _ = try await reminders.sendDue()
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_due", about: orderId) == 1)
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_overdue", about: orderId) == 0)
            #expect(try await self.reminders(client, canteen.token, "reminder.shipment_due", about: orderId) == 0)
            // Then overdue: the overdue reminder, and no second one ahead.
            test.clock.advance(seconds: 86_400)
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_overdue", about: orderId) == 1)
            #expect(try await self.reminders(client, shop.token, "reminder.shipment_due", about: orderId) == 1)

            // Accepted: three days before the 30-day payment term ends, the buyers are told.
            try await client.walk(orderId, buyer: canteen.token, merchant: shop.token, to: "accepted", amountFen: 2_000)
            test.clock.advance(seconds: 26 * 86_400)
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, canteen.token, "reminder.payment_due", about: orderId) == 0)
            test.clock.advance(seconds: 1.5 * 86_400)
            _ = try await reminders.sendDue()
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, canteen.token, "reminder.payment_due", about: orderId) == 1)
            #expect(try await self.reminders(client, canteen.token, "reminder.payment_overdue", about: orderId) == 0)
            #expect(try await self.reminders(client, shop.token, "reminder.payment_due", about: orderId) == 0)
        }
    }

    @Test func anExpiringCertificateRemindsItsMerchant() async throws {
        let test = try await TestApp.make {
            $0.certificateValidDays = 40
            Self.longSessions(&$0)
        }
        try await test.run { client in
            let market = try await Market.make(test, client)
            // Certified through the review, so the certificate is a signed one of `certificates`.
            let number: String? = try await market.shop.certified(client, cast: market.cast, title: "延寿小米").number
            let reminders = Reminders(test.services)
            test.clock.advance(seconds: 5 * 86_400)
            #expect(try await self.reminders(client, market.shop.token, "reminder.certificate_expiring", about: try #require(number)) == 0)
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, market.shop.token, "reminder.certificate_expiring", about: try #require(number)) == 0)
            test.clock.advance(seconds: 10 * 86_400)  // 25 days left: within the 30-day window
            _ = try await reminders.sendDue()
            _ = try await reminders.sendDue()
            #expect(try await self.reminders(client, market.shop.token, "reminder.certificate_expiring", about: try #require(number)) == 1)
        }
    }

    @Test func keysSayWhatOnceMeans() {
        let saturday = Date(timeIntervalSince1970: 1_796_400_000)  // 2026-12-04T16:00Z = Saturday 00:00 UTC+8
        let alert = Alert(kind: .behindSchedule, subjectType: "buyer_organization", subjectId: "o1", detail: "", since: saturday)
        let thisWeek = ReminderRules.reminder(for: alert, now: saturday)
        let nextWeek = ReminderRules.reminder(for: alert, now: saturday.addingTimeInterval(7 * 86_400))
        #expect(thisWeek?.key != nextWeek?.key && thisWeek?.audience == .organizationMembers)
        #expect(ReminderRules.reminder(for: alert, now: saturday.addingTimeInterval(86_400))?.key == thisWeek?.key)
        // The week turns on Monday 00:00 in China.
        #expect(ReminderRules.week(of: Date(timeIntervalSince1970: 4 * 86_400 - 8 * 3_600)) == 0)
        #expect(ReminderRules.week(of: Date(timeIntervalSince1970: 4 * 86_400 - 8 * 3_600 - 1)) == -1)
        #expect(ReminderRules.week(of: Date(timeIntervalSince1970: 11 * 86_400 - 8 * 3_600)) == 1)
        let slow = Alert(kind: .slowMoving, subjectType: "product", subjectId: "p1", detail: "", since: saturday)
        #expect(ReminderRules.reminder(for: slow, now: saturday) == nil)
        let document = Alert(kind: .documentExpiring, subjectType: "merchant_document", subjectId: "d1", detail: "", since: saturday)
        #expect(ReminderRules.reminder(for: document, now: saturday)?.key == "document:d1:\(saturday.millis)")
        // The kinds the inbox settings accept are exactly those the rules give.
        let produced = AlertKind.allCases.flatMap { kind -> [String] in
            let alert = Alert(kind: kind, subjectType: "order", subjectId: "s", detail: "", since: saturday)
            return [
                ReminderRules.reminder(for: alert, now: saturday)?.kind,
                ReminderRules.dueSoon(for: alert, now: saturday.addingTimeInterval(-60))?.kind,
            ].compactMap { $0 }
        }
        #expect(Set(produced) == ReminderRules.reminderKinds)
        // Ahead of time only while not yet due.
        let shipment = Alert(kind: .shipmentOverdue, subjectType: "order", subjectId: "o1", detail: "", since: saturday)
        #expect(ReminderRules.dueSoon(for: shipment, now: saturday.addingTimeInterval(-3600))?.key == "shipment-soon:o1")
        #expect(ReminderRules.dueSoon(for: shipment, now: saturday) == nil)
        #expect(ReminderRules.dueSoon(for: document, now: saturday.addingTimeInterval(-3600)) == nil)
    }
}

import Testing

@testable import BangfuApp

/// The shared state-machine table (`Workflow`): every machine's refusals come from one `check`.
@Suite struct WorkflowTests {
    @Test func checkRefusesTheWrongPartyBeforeTheWrongStatus() {
        let orders = OrderRules.workflow
        // A merchant may never accept, whatever the status: forbidden, not invalid_transition.
        #expect(throws: DomainError.self) { try orders.check(.accept, from: .placed, by: .merchant) }
        do {
            _ = try orders.check(.accept, from: .settled, by: .merchant)
            Issue.record("a merchant accepted an order")
        } catch {
            #expect(error.code == "forbidden")
            #expect(error.kind == .forbidden)
        }
        do {
            _ = try orders.check(.accept, from: .placed, by: .buyer)
            Issue.record("a placed order was accepted")
        } catch {
            #expect(error.code == "invalid_transition")
            #expect(error.errors.first?.message == "current status is placed")
        }
        #expect((try? orders.check(.accept, from: .shipped, by: .buyer)) == .accepted)
        #expect((try? orders.check(.pay, from: .accepted, by: .admin)) == .settled)
    }

    @Test func partiesAreTheUnionOverStatuses() {
        #expect(OnboardingRules.workflow.parties(for: .reject) == [.county, .admin])
        // The county rejects only a submitted application; an admin also a recommended one.
        #expect(OnboardingRules.next(from: .recommended, .reject, by: .county) == nil)
        #expect(OnboardingRules.next(from: .recommended, .reject, by: .admin) == .rejected)
        #expect(CertificationRules.workflow.target(from: .countyApproved, .approve) == .certified)
        #expect(CertificationRules.workflow.target(from: .certified, .approve) == nil)
    }

    @Test func everyTableRowIsReachableOnlyFromItsStatus() {
        for row in OrderRules.workflow.transitions {
            for status in OrderStatus.allCases where status != row.from {
                #expect(OrderRules.workflow.next(from: status, row.action, by: row.by.first ?? .admin) == nil)
            }
        }
    }
}

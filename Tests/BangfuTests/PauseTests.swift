import Testing

@testable import BangfuApp

/// The pause of the background services (backups, reminders): it lasts its time, and a service
/// being stopped ends it at once with `false`, so no further round starts.
@Suite struct PauseTests {
    @Test func aPauseLastsItsTimeAndACancelledOneEndsTheLoop() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await pauseUnlessShuttingDown(for: .milliseconds(50)))
        #expect(clock.now - start >= .milliseconds(50))
        let stopped = Task { await pauseUnlessShuttingDown(for: .seconds(60)) }
        stopped.cancel()
        let begun = clock.now
        #expect(await stopped.value == false)
        #expect(clock.now - begun < .seconds(10))
    }
}

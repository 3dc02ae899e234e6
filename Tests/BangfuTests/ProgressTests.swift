import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import BangfuApp

/// `bangfu seed` shows how far it has come: redrawn in place on a terminal, a few plain lines
/// elsewhere (issue 18, "a progress display on long work a person waits for").
@Suite struct ProgressTests {
    final class Output: Sendable {
        let chunks = NIOLockedValueBox<[String]>([])
        var text: String { chunks.withLockedValue { $0.joined() } }
    }

    @Test func aPipeGetsALineAtEachTenthNotEachBatch() {
        let output = Output()
        let printer = ProgressPrinter(isTerminal: false) { text in output.chunks.withLockedValue { $0.append(text) } }
        printer.report("merchants", done: 500, total: 500)
        for done in stride(from: 0, through: 100_000, by: 2_500) { printer.report("products", done: done, total: 100_000) }
        let lines = output.text.split(separator: "\n").map(String.init)
        // One line for the merchants, then 0%, 10%, …, 90% and the end: 11 for the products.
        #expect(lines.count == 12, "\(lines)")
        #expect(lines.first?.hasPrefix("merchants  500 / 500  100%") == true)
        #expect(lines.last?.hasPrefix("products  100,000 / 100,000  100%") == true)
        #expect(lines.dropFirst().map { $0.split(separator: " ").dropFirst(4).first.map(String.init) ?? "" }
            == ["0%", "10%", "20%", "30%", "40%", "50%", "60%", "70%", "80%", "90%", "100%"])
        #expect(!output.text.contains("\r"))
    }

    @Test func aTerminalRedrawsOneLineAndEndsIt() {
        let output = Output()
        let printer = ProgressPrinter(isTerminal: true) { text in output.chunks.withLockedValue { $0.append(text) } }
        for done in [0, 5_000, 10_000] { printer.report("products", done: done, total: 10_000) }
        let chunks = output.chunks.withLockedValue { $0 }
        #expect(chunks.count == 3)
        #expect(chunks.allSatisfy { $0.hasPrefix("\r\u{1B}[2K") })
        #expect(chunks.dropLast().allSatisfy { !$0.hasSuffix("\n") })
        #expect(chunks.last?.hasSuffix("\n") == true)
        #expect(chunks[1].contains("5,000 / 10,000  50%"))
    }

    /// Work that stops part way leaves no half line for the error message to land on.
    @Test func finishEndsAnOpenLineOnly() {
        let output = Output()
        let printer = ProgressPrinter(isTerminal: true) { text in output.chunks.withLockedValue { $0.append(text) } }
        printer.report("products", done: 5_000, total: 10_000)
        printer.finish()
        printer.finish()
        #expect(output.chunks.withLockedValue { $0.last } == "\n")
        #expect(output.chunks.withLockedValue { $0.count } == 2)
        printer.report("orders", done: 10, total: 10)
        printer.finish()
        #expect(output.chunks.withLockedValue { $0.count } == 3)
        let pipe = Output()
        let plain = ProgressPrinter(isTerminal: false) { text in pipe.chunks.withLockedValue { $0.append(text) } }
        plain.report("products", done: 5_000, total: 10_000)
        plain.finish()
        #expect(pipe.chunks.withLockedValue { $0.count } == 1)
    }

    @Test func theLineItself() {
        #expect(ProgressPrinter.grouped(0) == "0")
        #expect(ProgressPrinter.grouped(999) == "999")
        #expect(ProgressPrinter.grouped(1_000) == "1,000")
        #expect(ProgressPrinter.grouped(1_234_567) == "1,234,567")
        #expect(ProgressPrinter.tenth(done: 0, total: 0) == 10)
        #expect(ProgressPrinter.tenth(done: 99_999, total: 100_000) == 9)
        #expect(ProgressPrinter.tenth(done: 100_000, total: 100_000) == 10)
        #expect(ProgressPrinter.line(step: "orders", done: 1_500, total: 6_000, elapsed: .milliseconds(2_340))
            == "orders  1,500 / 6,000  25%  2.3 s")
    }

    /// Every step of a real seed reports, never past its total, and finishes at its total.
    @Test func seedingReportsEveryStepToItsEnd() async throws {
        let test = try await TestApp.make()
        let reports = NIOLockedValueBox<[(step: String, done: Int, total: Int)]>([])
        let progress = Progress { step, done, total in reports.withLockedValue { $0.append((step, done, total)) } }
        try await test.run { _ in
            _ = try await test.services.seed(
                products: 12_000, merchants: 3, buyers: 2, buyerPassword: "bangfu-bench-2026", settledOrders: 10,
                progress: progress)
        }
        let seen = reports.withLockedValue { $0 }
        for step in ["merchants", "products", "buyers", "orders"] {
            let mine = seen.filter { $0.step == step }
            #expect(!mine.isEmpty, "\(step) never reported")
            #expect(mine.last.map { $0.done == $0.total } == true, "\(step): \(mine)")
            #expect(mine.allSatisfy { $0.done <= $0.total })
            #expect(zip(mine, mine.dropFirst()).allSatisfy { $0.done <= $1.done })
        }
        #expect(seen.filter { $0.step == "products" }.count >= 3)  // 0, each batch of 5,000, the end
    }
}

import Foundation
import NIOConcurrencyHelpers

/// How far a long piece of work that a person waits for has come (`bangfu seed`): each step
/// (`merchants`, `products`, …) reports what is done out of its total.
public struct Progress: Sendable {
    let report: @Sendable (_ step: String, _ done: Int, _ total: Int) -> Void

    public init(_ report: @escaping @Sendable (_ step: String, _ done: Int, _ total: Int) -> Void) {
        self.report = report
    }

    public static let silent = Progress { _, _, _ in }
}

/// Shows progress to a person: on a terminal one line per step, redrawn in place and finished
/// with its total and time; elsewhere (a pipe, a log file) a plain line at the start of each step,
/// at every tenth of it and at its end, so a log holds a few lines rather than thousands.
public final class ProgressPrinter: Sendable {
    private struct State {
        var step: String?
        var started = ContinuousClock.now
        var lastTenth = -1
        /// A terminal line drawn without its line break yet.
        var lineOpen = false
    }

    private let isTerminal: Bool
    private let write: @Sendable (String) -> Void
    private let state = NIOLockedValueBox(State())

    public init(isTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// To standard error, redrawn in place when it is a terminal.
    public static func standardError() -> ProgressPrinter {
        ProgressPrinter(isTerminal: isatty(STDERR_FILENO) != 0) { text in
            // Not `write(_:)`, which traps on Linux when standard error is closed or full.
            try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
        }
    }

    public var progress: Progress {
        Progress { [self] step, done, total in report(step, done: done, total: total) }
    }

    func report(_ step: String, done: Int, total: Int) {
        let now = ContinuousClock.now
        let text: String? = state.withLockedValue { state in
            if state.step != step {
                state = State(step: step, started: now, lastTenth: -1)
            }
            let tenth = Self.tenth(done: done, total: total)
            let line = Self.line(step: step, done: done, total: total, elapsed: now - state.started)
            if isTerminal {
                state.lineOpen = done < total
                return "\r\u{1B}[2K" + line + (done >= total ? "\n" : "")
            }
            guard tenth > state.lastTenth else { return nil }
            state.lastTenth = tenth
            return line + "\n"
        }
        if let text { write(text) }
    }

    /// Ends a line left open on a terminal (the work stopped part way), so what is printed
    /// next starts on a line of its own.
    public func finish() {
        let open = state.withLockedValue { state in
            defer { state.lineOpen = false }
            return state.lineOpen
        }
        if open { write("\n") }
    }

    /// Which tenth of the step is done (0…10); 10 only when all of it is.
    static func tenth(done: Int, total: Int) -> Int {
        guard total > 0 else { return 10 }
        if done >= total { return 10 }
        let clamped = max(0, done)
        return min(9, Int(Double(clamped) / Double(total) * 10))
    }

    /// `products  45,000 / 100,000  45%  12.3 s`
    static func line(step: String, done: Int, total: Int, elapsed: Duration) -> String {
        let percent = total > 0 ? min(100, max(0, Int(Double(done) / Double(total) * 100))) : 100
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return "\(step)  \(grouped(done)) / \(grouped(total))  \(percent)%  \(String(format: "%.1f", seconds)) s"
    }

    /// 100000 → "100,000".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }
}

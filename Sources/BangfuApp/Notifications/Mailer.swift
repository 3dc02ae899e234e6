import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// Hands one message to the mail system; throws when it refused it. The server's is
/// `CommandMailTransport`; tests give their own.
protocol MailTransport: Sendable {
    func send(_ message: String) async throws
}

/// Sends what the mail outbox holds (SPEC.md "Notifications": optionally the operator connects
/// e-mail): each pass claims the due messages, hands each to the mail command and records it;
/// a refused one is tried again 1 minute later, doubling, for a day.
struct Mailer: UseCase {
    let services: AppServices
    let transport: any MailTransport
    let from: String
    let logger: Logger
    var store: MailStore { services.mail }

    /// Messages one pass claims and sends one after another: at most 30 seconds each, within
    /// the claim's `MailStore.claimLease`.
    static let batch = 8

    @discardableResult
    func pass() async throws -> Int {
        let now = clock.now
        let claimed = try await database.write { db in try await store.claim(now: now, limit: Self.batch, in: db) }
        for mail in claimed {
            let message = MailRules.message(
                from: from, to: mail.recipient, subject: mail.subject, body: mail.body, date: clock.now, id: mail.id)
            let outcome: (status: String, error: String?, next: Date?)
            do {
                try await transport.send(message)
                outcome = ("sent", nil, nil)
            } catch {
                let next = Backoff.next(afterFailures: mail.attempts + 1, base: 60, createdAt: mail.createdAt, now: clock.now)
                let said = String("\(error)".prefix(300))
                outcome = (next == nil ? "failed" : "pending", said, next)
                // The address is the user's own data: the log names the message only.
                logger.warning("a mail was not accepted", metadata: ["mail": .string(mail.id), "error": .string(said)])
            }
            let at = clock.now
            try await database.write { db in
                try await store.record(mail.id, status: outcome.status, error: outcome.error, next: outcome.next, at: at, in: db)
            }
        }
        return claimed.count
    }
}

/// The operator's sendmail-compatible program (`--mail-command "msmtp -t"`), run through
/// `/usr/bin/env` (so a bare name is found on PATH) on a thread pool of its own, the message on
/// its standard input; exit status 0 is accepted. A program that has not finished in 30 seconds
/// is killed.
struct CommandMailTransport: MailTransport {
    let command: [String]

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    private static let pool: NIOThreadPool = {
        // A program that exits before reading its input must not end the server: writing into
        // its closed pipe then fails with EPIPE instead of raising SIGPIPE (process-wide, and
        // what a server wants anyway; NIO's sockets never raise it).
        signal(SIGPIPE, SIG_IGN)
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    func send(_ message: String) async throws {
        let command = self.command
        try await Self.pool.runIfActive { try Self.run(command, input: Data(message.utf8)) }
    }

    private static func run(_ command: [String], input: Data) throws {
        guard let program = command.first else { throw Refused(description: "no mail command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let stdin = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        let pid = process.processIdentifier
        let finished = NIOLockedValueBox(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) {
            finished.withLockedValue { done in if !done { kill(pid, SIGKILL) } }
        }
        defer { finished.withLockedValue { $0 = true } }
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
        let said = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let text = String(decoding: said.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Refused(description: "\(program) ended with status \(process.terminationStatus): \(text)")
        }
    }
}

/// Runs mail passes while the server runs (`--mail-command`).
struct MailService: Service {
    let mailer: Mailer
    let interval: Duration

    func run() async throws {
        await drainWhileServing(every: interval, logger: mailer.logger, what: "mail delivery") { try await mailer.pass() }
    }
}

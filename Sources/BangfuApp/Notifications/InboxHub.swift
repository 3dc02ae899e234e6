import Foundation
import NIOConcurrencyHelpers

/// The open inbox streams of this process, by user: a committed notification wakes its
/// recipients' streams, which then read what is new. A wake carries nothing; the database stays
/// the one source of what a stream shows, so a stream can never show a notification that rolled
/// back. (Streams on other processes sharing PostgreSQL catch up on their next heartbeat.)
final class InboxHub: Sendable {
    private let streams = NIOLockedValueBox<[String: [UUID: AsyncStream<Void>.Continuation]]>([:])

    /// A stream of wakes for `userId`: at most one is kept waiting, as one read catches up on all.
    func subscribe(_ userId: String) -> (id: UUID, wakes: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) {
        let (wakes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        streams.withLockedValue { $0[userId, default: [:]][id] = continuation }
        return (id, wakes, continuation)
    }

    func unsubscribe(_ userId: String, _ id: UUID) {
        let continuation = streams.withLockedValue { streams -> AsyncStream<Void>.Continuation? in
            let removed = streams[userId]?.removeValue(forKey: id)
            if streams[userId]?.isEmpty == true { streams[userId] = nil }
            return removed
        }
        continuation?.finish()
    }

    func wake(_ userIds: some Sequence<String>) {
        let due = streams.withLockedValue { streams in userIds.flatMap { streams[$0].map { Array($0.values) } ?? [] } }
        for continuation in due { continuation.yield() }
    }

    /// How many streams are open (for tests and metrics).
    var openStreams: Int { streams.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}

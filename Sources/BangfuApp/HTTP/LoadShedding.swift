import DequeModule
import Hummingbird
import NIOConcurrencyHelpers

/// Bounds the work a route group takes on (issue 18, "Overload"): at most `running` requests run
/// at once and at most `waiting` more wait their turn in arrival order; past that a request is
/// refused at once with 503 `overloaded` and `Retry-After: 1`, so a burst cannot queue without
/// bound and the server answers again as soon as it ends. A waiting request whose task is
/// cancelled leaves the queue without running.
final class LoadShedder: Sendable {
    private struct State {
        var running = 0
        var next: UInt64 = 0
        var waiters = Deque<(id: UInt64, turn: CheckedContinuation<Bool, Never>)>()
    }

    let running: Int
    let waiting: Int
    private let state = NIOLockedValueBox(State())

    init(running: Int, waiting: Int) {
        self.running = max(1, running)
        self.waiting = max(0, waiting)
    }

    /// Waits for a turn; false when the queue is full or the task was cancelled while waiting.
    /// The decision is taken under the lock inside the continuation, so no `leave` can come
    /// between a decision to wait and the waiting.
    func enter() async -> Bool {
        let id = state.withLockedValue { state in
            state.next &+= 1
            return state.next
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (turn: CheckedContinuation<Bool, Never>) in
                let cancelled = Task.isCancelled
                let answer: Bool? = state.withLockedValue { state in
                    if cancelled { return false }
                    if state.running < running {
                        state.running += 1
                        return true
                    }
                    if state.waiters.count >= waiting { return false }
                    state.waiters.append((id, turn))
                    return nil
                }
                if let answer { turn.resume(returning: answer) }
            }
        } onCancel: {
            let turn = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
                guard let at = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: at).turn
            }
            turn?.resume(returning: false)
        }
    }

    /// Ends a turn: the next waiter runs in its place.
    func leave() {
        let next = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            if let waiter = state.waiters.popFirst() { return waiter.turn }
            state.running -= 1
            return nil
        }
        next?.resume(returning: true)
    }
}

/// `LoadShedder` as a route group's middleware.
struct LoadSheddingMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let shedder: LoadShedder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard await shedder.enter() else {
            throw DomainError(.other(503), code: "overloaded", detail: "the server is busy; try again shortly", retryAfterSeconds: 1)
        }
        defer { shedder.leave() }
        return try await next(request, context)
    }
}

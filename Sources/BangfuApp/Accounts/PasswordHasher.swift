import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt, always on a thread pool of its own: a hash costs tens of milliseconds and must never run
/// on an event loop, nor queue ahead of the file reads and writes on NIO's shared pool (a burst of
/// sign-ins would otherwise stall uploads and static files).
public struct PasswordHasher: Sendable {
    /// One thread a core, started on first use and kept for the life of the process: the pool a
    /// server hashes on unless it is given another (`AppConfiguration.passwordPool`).
    public static let sharedPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    public let cost: UInt8
    private let pool: NIOThreadPool
    /// A hash of a random string, verified against when the username is unknown so that unknown
    /// users and wrong passwords take the same time.
    private let decoy: String

    public init(cost: UInt8, pool: NIOThreadPool = PasswordHasher.sharedPool) {
        precondition(cost >= 10, "bcrypt cost must be at least 10")
        self.cost = cost
        self.pool = pool
        self.decoy = Bcrypt.hash(randomBase32(bytes: 16), cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await pool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoy
        let matches = try await pool.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}

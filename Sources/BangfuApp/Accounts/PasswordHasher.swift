import HummingbirdBcrypt
import NIOPosix

/// bcrypt, always on the thread pool: a hash costs tens of milliseconds and must never run on an
/// event loop.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    /// A hash of a random string, verified against when the username is unknown so that unknown
    /// users and wrong passwords take the same time.
    private let decoy: String

    public init(cost: UInt8) {
        precondition(cost >= 10, "bcrypt cost must be at least 10")
        self.cost = cost
        self.decoy = Bcrypt.hash(randomBase32(bytes: 16), cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}

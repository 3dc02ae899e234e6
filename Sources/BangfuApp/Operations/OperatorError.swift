import Foundation
import NIOCore
import PostgresNIO
import SQLiteNIO

#if canImport(Glibc)
import Glibc
#endif

/// The exit codes of `bangfu` (README "Commands"), from sysexits(3) so that service managers and
/// scripts can tell the failures apart.
public enum ExitCodes {
    /// `bangfu check`, `audit verify` and `certificate verify` found a breach or a bad certificate.
    public static let checkFailed: Int32 = 1
    /// A wrong option or argument (swift-argument-parser's own answer).
    public static let usage: Int32 = 64
    /// A file that should hold Bangfu's data holds something else.
    public static let dataError: Int32 = 65
    /// A file or directory that must exist does not.
    public static let noInput: Int32 = 66
    /// The database cannot be reached, or the port is taken.
    public static let unavailable: Int32 = 69
    /// Anything unforeseen: a defect to report.
    public static let software: Int32 = 70
    /// A file cannot be read or written.
    public static let ioError: Int32 = 74
    /// Permission denied, or a data directory that belongs to another user.
    public static let permission: Int32 = 77
    /// A setting (option, environment variable, database URL) that cannot work.
    public static let configuration: Int32 = 78
}

/// A failure an operator can act on: one line saying what failed and what to do, and its exit code.
public struct OperatorError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }

    /// What `bangfu` prints (one line, to standard error) and exits with for `error`.
    public static func describing(_ error: any Error) -> OperatorError {
        switch error {
        case let error as OperatorError:
            return error
        case let error as ConfigurationError:
            return OperatorError(error.description, exitCode: ExitCodes.configuration)
        case let error as IOError where error.errnoCode == EADDRINUSE:
            return OperatorError(
                "the address is in use (another server is listening on that port): stop it, or choose another with --port",
                exitCode: ExitCodes.unavailable)
        case let error as IOError where error.errnoCode == EACCES:
            return OperatorError(
                "permission denied binding the port: ports below 1024 need privileges; choose --port 1024 or above",
                exitCode: ExitCodes.permission)
        case let error as IOError where error.errnoCode == EADDRNOTAVAIL:
            return OperatorError(
                "the address given with --host is not one of this machine's: use 127.0.0.1, 0.0.0.0 or a local address",
                exitCode: ExitCodes.configuration)
        case let error as PSQLError:
            return OperatorError(
                "cannot use the PostgreSQL database (\(Self.postgresReason(error))): check that it runs and that --database names it, its user and password",
                exitCode: ExitCodes.unavailable)
        case let error as SQLiteError:
            return OperatorError(
                "cannot use the SQLite database (\(error.message)): check the data directory (--data-dir) and its permissions",
                exitCode: ExitCodes.ioError)
        case let error as CocoaError:
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? "a file"
            switch error.code {
            case .fileNoSuchFile, .fileReadNoSuchFile:
                return OperatorError("\(path) does not exist: check the path", exitCode: ExitCodes.noInput)
            case .fileReadNoPermission, .fileWriteNoPermission:
                return OperatorError(
                    "permission denied on \(path): run bangfu as the user that owns it", exitCode: ExitCodes.permission)
            default:
                return OperatorError("cannot read or write \(path) (\(error.code.rawValue))", exitCode: ExitCodes.ioError)
            }
        case let error as DecodingError:
            return OperatorError(
                "a file Bangfu read is not the JSON it expects (\(Self.decodingReason(error)))", exitCode: ExitCodes.dataError)
        case _ where String(describing: type(of: error)).hasPrefix("ConnectionPoolError"):
            // PostgresNIO's pool gives up after its retries (its type is not public).
            return OperatorError(
                "cannot connect to the PostgreSQL database: check that it runs and that --database names its host and port",
                exitCode: ExitCodes.unavailable)
        default:
            return OperatorError(
                "unexpected failure (\(String(describing: error).prefix(300))); please report it",
                exitCode: ExitCodes.software)
        }
    }

    private static func postgresReason(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return String(describing: underlying) }
        return "\(error.code)"
    }

    private static func decodingReason(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
            .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The data directory must belong to the user running bangfu and be writable by it: files written
/// by another user (root, say) would lock the real owner out, so this is refused even as root.
func checkDataDirectory(_ path: String) throws {
    var info = stat()
    guard stat(path, &info) == 0 else { return }  // created with the right owner later
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw OperatorError("the data directory \(path) is not a directory: give --data-dir a directory", exitCode: ExitCodes.configuration)
    }
    let me = geteuid()
    guard info.st_uid == me else {
        throw OperatorError(
            "the data directory \(path) belongs to uid \(info.st_uid), not to this user (uid \(me)): run bangfu as its owner, or chown -R it",
            exitCode: ExitCodes.permission)
    }
    guard access(path, W_OK | X_OK) == 0 else {
        throw OperatorError(
            "the data directory \(path) is not writable: chmod u+rwx it", exitCode: ExitCodes.permission)
    }
}

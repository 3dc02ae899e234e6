import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import SQLKit

#if canImport(Glibc)
import Glibc
#endif

/// Uploaded files, stored under `DATA_DIR/uploads` by their SHA-256 (so equal files are stored
/// once). Bodies are streamed to disk chunk by chunk, on the thread pool, and cut off as soon as
/// they pass their limit: a large upload is never held in memory whole.
struct UploadStore: Sendable {
    let directory: String
    let ids: IDGenerator
    let engine: DatabaseEngine

    struct Stored: Sendable {
        var sha256: String
        var size: Int64
        var type: SniffedType
    }

    /// Streams `body` to disk; refuses (413) past `limit` bytes, and (415) unless the declared
    /// `Content-Type` is one of `allowed` and the bytes are of that type (or it is
    /// `application/octet-stream` and the bytes are of one of `allowed`).
    func store(_ request: Request, limit: Int, allowed: [SniffedType]) async throws -> Stored {
        let mediaType = request.headers[.contentType].flatMap(Self.mediaType)
        // `application/octet-stream` says "bytes of some type": the type is then read from the
        // bytes alone (generated clients send it for every binary body).
        let anyAllowed = mediaType == "application/octet-stream"
        let declared = mediaType.flatMap(SniffedType.init(rawValue:))
        guard anyAllowed || declared.map(allowed.contains) == true else {
            throw DomainError(
                .unsupportedMediaType, code: "unsupported_media_type",
                detail: "send " + allowed.map(\.rawValue).joined(separator: ", "))
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Self.tooLarge(limit)
        }
        let temporary = directory + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let path = temporary + "/" + ids.next()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw UploadError.cannotWrite }
        var closed = false
        defer {
            if !closed { close(fd) }
            try? FileManager.default.removeItem(atPath: path)
        }
        var hasher = SHA256()
        var size = 0
        var head: [UInt8] = []
        for try await chunk in request.body {
            size += chunk.readableBytes
            if size > limit { throw Self.tooLarge(limit) }
            let bytes = Array(chunk.readableBytesView)
            if head.count < 16 { head += bytes.prefix(16 - head.count) }
            hasher.update(data: bytes)
            try await NIOThreadPool.singleton.runIfActive {
                try bytes.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        guard let base = raw.baseAddress else { return }
                        let written = write(fd, base + offset, raw.count - offset)
                        guard written > 0 else { throw UploadError.cannotWrite }
                        offset += written
                    }
                }
            }
        }
        let sniffed = SniffedType.sniff(head)
        guard let type = sniffed, anyAllowed ? allowed.contains(type) : type == declared else {
            throw DomainError(
                .unsupportedMediaType, code: "unsupported_media_type",
                detail: "the content is not " + (declared.map(\.rawValue) ?? allowed.map(\.rawValue).joined(separator: ", ")))
        }
        let digest = hasher.finalize().lowercaseHex
        try await NIOThreadPool.singleton.runIfActive { guard fsync(fd) == 0 else { throw UploadError.cannotWrite } }
        close(fd)
        closed = true
        let final = self.path(sha256: digest)
        try FileManager.default.createDirectory(
            atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // rename(2) replaces atomically: two uploads of the same bytes at once both succeed (the
        // file is named by its content, so either copy is the same), where a check-then-move raced.
        guard rename(path, final) == 0 else { throw UploadError.cannotWrite }
        return Stored(sha256: digest, size: Int64(size), type: type)
    }

    /// The media type of a `Content-Type` value (`type/subtype`, lowercased, parameters dropped),
    /// or nil when there is none (`""`, `";"`, `"; charset=x"`).
    static func mediaType(_ value: String) -> String? {
        let type = value.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        return type.isEmpty ? nil : type
    }

    /// Takes the file of `sha256` for this transaction: on PostgreSQL an advisory lock, so that a
    /// removal and a new reference to the same file cannot interleave across processes (SQLite's
    /// single writer already serializes them).
    func lock(sha256: String, in db: any SQLDatabase) async throws {
        if engine == .postgres {
            try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "upload:" + sha256)))").run()
        }
    }

    /// True while a document, an image or an invoice refers to the file.
    func isReferenced(sha256: String, in db: any SQLDatabase) async throws -> Bool {
        let row = try await db.raw(
            """
            SELECT (SELECT COUNT(*) FROM merchant_documents WHERE sha256 = \(bind: sha256))
              + (SELECT COUNT(*) FROM product_images WHERE sha256 = \(bind: sha256))
              + (SELECT COUNT(*) FROM invoices WHERE sha256 = \(bind: sha256)) AS n
            """
        ).first()
        return try (row?.decode(column: "n", as: Int64.self) ?? 0) > 0
    }

    /// Removes the stored file unless something refers to it: called when the record that was to
    /// refer to a just-stored upload was refused, so no file is left that nothing names.
    func removeIfUnreferenced(sha256: String, database: any Database) async {
        let path = self.path(sha256: sha256)
        _ = try? await database.write { db in
            try await lock(sha256: sha256, in: db)
            if try await !isReferenced(sha256: sha256, in: db) { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// Whether the file is on disk (checked, under `lock`, before a new reference is written).
    func exists(sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(sha256: sha256))
    }

    /// Runs `body`, which records a reference to the just-stored file of `stored`; when it fails,
    /// the file is removed again unless something else refers to it.
    func recording<T: Sendable>(
        _ stored: Stored, database: any Database, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        do {
            return try await database.write { db in
                try await lock(sha256: stored.sha256, in: db)
                guard exists(sha256: stored.sha256) else {
                    throw DomainError.conflict("the upload was removed meanwhile; send it again")
                }
                return try await body(db)
            }
        } catch {
            await removeIfUnreferenced(sha256: stored.sha256, database: database)
            throw error
        }
    }

    func path(sha256: String) -> String {
        directory + "/" + sha256.prefix(2) + "/" + sha256
    }

    func read(sha256: String) async throws -> ByteBuffer {
        let path = self.path(sha256: sha256)
        let data = try await NIOThreadPool.singleton.runIfActive { try Data(contentsOf: URL(fileURLWithPath: path)) }
        return ByteBuffer(bytes: data)
    }

    static func tooLarge(_ limit: Int) -> DomainError {
        DomainError(.contentTooLarge, code: "payload_too_large", detail: "the upload is larger than \(limit >> 20) MiB")
    }
}

enum UploadError: Error {
    case cannotWrite
}

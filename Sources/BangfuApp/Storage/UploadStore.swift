import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Uploaded files, stored under `DATA_DIR/uploads` by their SHA-256 (so equal files are stored
/// once). Bodies are streamed to disk chunk by chunk, on the thread pool, and cut off as soon as
/// they pass their limit: a large upload is never held in memory whole.
struct UploadStore: Sendable {
    let directory: String
    let ids: IDGenerator

    struct Stored: Sendable {
        var sha256: String
        var size: Int64
        var type: SniffedType
    }

    /// Streams `body` to disk; refuses (413) past `limit` bytes, and (415) unless the declared
    /// `Content-Type` is one of `allowed` and the bytes are of that type.
    func store(_ request: Request, limit: Int, allowed: [SniffedType]) async throws -> Stored {
        let declared = request.headers[.contentType].flatMap {
            SniffedType(rawValue: $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased())
        }
        guard let declared, allowed.contains(declared) else {
            throw APIError(
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
                        let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                        guard written > 0 else { throw UploadError.cannotWrite }
                        offset += written
                    }
                }
            }
        }
        guard SniffedType.sniff(head) == declared else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                detail: "the content is not \(declared.rawValue)")
        }
        let digest = hasher.finalize().lowercaseHex
        try await NIOThreadPool.singleton.runIfActive { guard fsync(fd) == 0 else { throw UploadError.cannotWrite } }
        close(fd)
        closed = true
        let final = self.path(sha256: digest)
        if !FileManager.default.fileExists(atPath: final) {
            try FileManager.default.createDirectory(
                atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: path, toPath: final)
        }
        return Stored(sha256: digest, size: Int64(size), type: declared)
    }

    func path(sha256: String) -> String {
        directory + "/" + sha256.prefix(2) + "/" + sha256
    }

    func read(sha256: String) async throws -> ByteBuffer {
        let path = self.path(sha256: sha256)
        let data = try await NIOThreadPool.singleton.runIfActive { try Data(contentsOf: URL(fileURLWithPath: path)) }
        return ByteBuffer(bytes: data)
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", detail: "the upload is larger than \(limit >> 20) MiB")
    }
}

enum UploadError: Error {
    case cannotWrite
}

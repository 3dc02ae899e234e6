import Crypto
import Hummingbird
import HTTPTypes

/// Serves the web UI from `Public/` through Hummingbird's `FileMiddleware`, without range
/// requests: FileMiddleware answers a range that starts past the end of a file with a negative
/// `Content-Length` (a malformed response), and the UI's files are small enough to send whole.
/// `Range` and `If-Range` are dropped before the files are looked up; everything else is
/// FileMiddleware's own behaviour.
struct StaticFilesMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let files: FileMiddleware<AppRequestContext, LocalFileSystem>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.headers[.range] != nil || request.headers[.ifRange] != nil else {
            return try await files.handle(request, context: context, next: next)
        }
        var head = request.head
        head.headerFields[.range] = nil
        head.headerFields[.ifRange] = nil
        return try await files.handle(Request(head: head, body: request.body), context: context, next: next)
    }
}

/// Serves the web UI built into the binary (`EmbeddedFiles.publicFiles`) the way FileMiddleware
/// serves a directory: GET and HEAD, `index.html` for a folder, a content type by extension, an
/// ETag (`If-None-Match` answers 304) and `Cache-Control: no-cache` so a new binary's UI shows at
/// once. Anything not found goes on to the routes.
struct EmbeddedFilesMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
        let eTag: String
    }

    let files: [String: File]

    init(files: [String: [UInt8]]) {
        var prepared: [String: File] = [:]
        for (path, bytes) in files {
            prepared[path] = File(
                body: ByteBuffer(bytes: bytes), contentType: Self.contentType(of: path),
                eTag: "\"" + SHA256.hash(data: bytes).lowercaseHex.prefix(32) + "\"")
        }
        self.files = prepared
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map(String.init) ?? "" {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "json": "application/json; charset=utf-8"
        case "yaml", "yml": "application/yaml; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        default: "application/octet-stream"
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .get || request.method == .head else { return try await next(request, context) }
        var path = String(request.uri.path.drop { $0 == "/" })
        if path.isEmpty || path.hasSuffix("/") { path += "index.html" }
        guard let file = files[path] else { return try await next(request, context) }
        var headers: HTTPFields = [.contentType: file.contentType, .eTag: file.eTag, .cacheControl: "no-cache"]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == file.eTag || $0.trimmingCharacters(in: .whitespaces) == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(file.body.readableBytes)
        return Response(
            status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: file.body))
    }
}

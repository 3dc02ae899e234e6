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

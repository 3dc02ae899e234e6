import BangfuResources
import Foundation

/// Where the web UI (`Public/`) and the reference data (`Catalog/`) come from: the copies
/// compiled into the binary (the default, so a copied `bangfu` runs from any directory), or a
/// directory named by `--public-dir` / `--catalog-dir` (for development: edits show without a
/// rebuild).
struct FileSource: Sendable {
    /// nil: the embedded files.
    let directory: String?
    let embedded: [String: [UInt8]]
    /// What the files are, for error messages ("reference data", "web UI").
    let what: String

    static func publicFiles(_ configuration: AppConfiguration) -> FileSource {
        FileSource(directory: configuration.publicDirectory, embedded: EmbeddedFiles.publicFiles, what: "web UI")
    }

    static func catalogFiles(_ configuration: AppConfiguration) -> FileSource {
        FileSource(directory: configuration.catalogDirectory, embedded: EmbeddedFiles.catalogFiles, what: "reference data")
    }

    /// `path` decoded as JSON `T`; a file that does not decode is named in the error.
    func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let data = try data(path)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw OperatorError(
                "\(directory.map { $0 + "/" } ?? "the built-in ")\(path) is not valid \(what) (\(OperatorError.describing(error).message))",
                exitCode: ExitCodes.dataError)
        }
    }

    /// The file at `path` (relative, `/`-separated).
    func data(_ path: String) throws -> Data {
        guard let directory else {
            guard let bytes = embedded[path] else {
                throw OperatorError("the \(what) file \(path) is not built into this binary", exitCode: ExitCodes.software)
            }
            return Data(bytes)
        }
        let full = directory + "/" + path
        guard let data = FileManager.default.contents(atPath: full) else {
            throw OperatorError(
                "cannot read \(full) (\(what)): check the directory given with --\(what == "web UI" ? "public" : "catalog")-dir, or leave the option out to use the files built into bangfu",
                exitCode: ExitCodes.noInput)
        }
        return data
    }
}

import BangfuResources
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BangfuApp

/// The web UI and the reference data are built into the binary (issue 22).
@Suite struct EmbeddedFilesTests {
    static func files(under folder: String, matching keep: (String) -> Bool = { _ in true }) throws -> [String: Data] {
        let root = repositoryRoot + "/" + folder
        var found: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue,
                keep(path)
            else { continue }
            found[path] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path))
        }
        return found
    }

    /// A file added to Public/ or Catalog/ without its line in EmbeddedFiles.swift fails here.
    @Test func everyFileOfPublicAndCatalogIsBuiltInWithTheSameBytes() throws {
        let publicFiles = try Self.files(under: "Public")
        #expect(Set(publicFiles.keys) == Set(EmbeddedFiles.publicFiles.keys))
        for (path, data) in publicFiles { #expect(EmbeddedFiles.publicFiles[path].map { Data($0) } == data, "\(path)") }
        let catalogFiles = try Self.files(under: "Catalog") { $0.hasSuffix(".json") && !$0.contains("/") }
        #expect(Set(catalogFiles.keys) == Set(EmbeddedFiles.catalogFiles.keys))
        for (path, data) in catalogFiles { #expect(EmbeddedFiles.catalogFiles[path].map { Data($0) } == data, "\(path)") }
    }

    @Test func theBuiltInUIIsServedWithTypesAndETags() async throws {
        let test = try await TestApp.make()
        #expect(test.services.configuration.publicDirectory == nil)
        try await test.run { client in
            let index = try await client.call(.get, "/")
            #expect(index.status == .ok && index.text.contains("帮扶"))
            #expect(index.headers[.contentType] == "text/html; charset=utf-8")
            let script = try await client.call(.get, "/js/main.js")
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            let eTag = try #require(script.headers[.eTag])
            let again = try await client.call(.get, "/js/main.js", headers: [.ifNoneMatch: eTag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            let head = try await client.call(.head, "/app.css")
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.headers[.contentLength].flatMap(Int.init) == EmbeddedFiles.publicFiles["app.css"]?.count)
            #expect(try await client.call(.get, "/no-such-file.js").status == .notFound)
            #expect(try await client.call(.get, "/openapi.yaml").text.hasPrefix("openapi: 3.1"))
            // Reference data came from the built-in Catalog/.
            let counties = try await client.call(.get, "/api/v1/counties")
            #expect(counties.array.count == 28)
        }
    }

    @Test func aDirectoryOverrideThatDoesNotExistIsNamedInTheError() async throws {
        let test = try await TestApp.make { $0.catalogDirectory = "/nonexistent/catalog" }
        await #expect {
            try await test.run { _ in }
        } throws: { error in
            "\(error)".contains("/nonexistent/catalog/counties.json") && "\(error)".contains("--catalog-dir")
        }
    }
}

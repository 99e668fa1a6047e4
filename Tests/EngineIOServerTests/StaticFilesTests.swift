import EngineIOCore
import Foundation
import NIOCore
import HTTPTypes
import Testing

@testable import EngineIOServer

/// `StaticFiles`: content types, caching headers and 304s, index files, and no way out of the folder.
@Suite struct StaticFilesTests {
    /// A temporary tree: `<base>/public` (served) with pages, a hidden file, a sub-folder, a symlink to a
    /// file outside; `<base>/secret.txt` outside the served folder.
    final class Tree {
        let base: String
        var publicPath: String { base + "/public" }

        init() throws {
            base = NSTemporaryDirectory() + "static-files-\(UUID().uuidString)"
            let fm = FileManager.default
            try fm.createDirectory(atPath: base + "/public/sub", withIntermediateDirectories: true)
            try "<!doctype html><title>home</title>".write(toFile: base + "/public/index.html", atomically: true, encoding: .utf8)
            try "body { color: red }".write(toFile: base + "/public/style.css", atomically: true, encoding: .utf8)
            try "console.log(1)".write(toFile: base + "/public/app.js", atomically: true, encoding: .utf8)
            try "sub index".write(toFile: base + "/public/sub/index.html", atomically: true, encoding: .utf8)
            try "a file".write(toFile: base + "/public/sub/file name.txt", atomically: true, encoding: .utf8)
            try "hidden".write(toFile: base + "/public/.env", atomically: true, encoding: .utf8)
            try "TOP SECRET".write(toFile: base + "/secret.txt", atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: base + "/public/escape.txt", withDestinationPath: base + "/secret.txt")
            try fm.createSymbolicLink(atPath: base + "/public/up", withDestinationPath: base)
            try fm.createSymbolicLink(atPath: base + "/public/inside.css", withDestinationPath: base + "/public/style.css")
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }
    }

    private func request(_ uri: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> HTTPServerRequest {
        HTTPServerRequest(head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers))
    }

    private func get(_ files: StaticFiles, _ uri: String, headers: HTTPFields = [:]) async -> HTTPServerResponse {
        await files.handler()(self.request(uri, headers: headers))
    }

    @Test func servesFilesWithTheirContentTypes() async throws {
        let tree = try Tree()
        let files = StaticFiles(root: tree.publicPath)
        let home = await get(files, "/")
        #expect(home.status == .ok)
        #expect(home.headerFields[HTTPField.Name("Content-Type")!] == "text/html; charset=utf-8")
        #expect(String(buffer: home.body) == "<!doctype html><title>home</title>")
        #expect(await get(files, "/index.html").status == .ok)
        let css = await get(files, "/style.css?v=3")
        #expect(css.headerFields[HTTPField.Name("Content-Type")!] == "text/css; charset=utf-8")
        #expect(String(buffer: css.body) == "body { color: red }")
        #expect(await get(files, "/app.js").headerFields[HTTPField.Name("Content-Type")!] == "text/javascript; charset=utf-8")
        #expect(String(buffer: await get(files, "/sub/").body) == "sub index")
        #expect(String(buffer: await get(files, "/sub").body) == "sub index")
        #expect(String(buffer: await get(files, "/sub/file%20name.txt").body) == "a file")
        #expect(String(buffer: await get(files, "//style.css").body) == "body { color: red }")
        // a symlink that stays inside the folder is fine
        #expect(await get(files, "/inside.css").status == .ok)
    }

    @Test func contentTypes() {
        #expect(StaticFiles.contentType(forPath: "a/b.PNG") == "image/png")
        #expect(StaticFiles.contentType(forPath: "x.svg") == "image/svg+xml")
        #expect(StaticFiles.contentType(forPath: "x.json") == "application/json; charset=utf-8")
        #expect(StaticFiles.contentType(forPath: "x.woff2") == "font/woff2")
        #expect(StaticFiles.contentType(forPath: "README") == "application/octet-stream")
        #expect(StaticFiles.contentType(forPath: "archive.unknown") == "application/octet-stream")
    }

    @Test func cachingHeadersAndNotModified() async throws {
        let tree = try Tree()
        let files = StaticFiles(root: tree.publicPath, cacheControl: "public, max-age=60")
        let first = await get(files, "/style.css")
        let etag = try #require(first.headerFields[HTTPField.Name("ETag")!])
        let lastModified = try #require(first.headerFields[HTTPField.Name("Last-Modified")!])
        #expect(first.headerFields[HTTPField.Name("Cache-Control")!] == "public, max-age=60")
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
        #expect(lastModified.hasSuffix(" GMT"))
        let again = await get(files, "/style.css", headers: [.ifNoneMatch: etag])
        #expect(again.status == .notModified)
        #expect(again.body.readableBytes == 0)
        #expect(again.headerFields[HTTPField.Name("ETag")!] == etag)
        #expect(await get(files, "/style.css", headers: [.ifNoneMatch: "\"other\", \(etag)"]).status == .notModified)
        #expect(await get(files, "/style.css", headers: [.ifNoneMatch: "\"other\""]).status == .ok)
        #expect(await get(files, "/style.css", headers: [.ifModifiedSince: lastModified]).status == .notModified)
        // a changed file gets a new validator
        try "body { color: blue; }".write(toFile: tree.publicPath + "/style.css", atomically: true, encoding: .utf8)
        let changed = await get(files, "/style.css", headers: [.ifNoneMatch: etag])
        #expect(changed.status == .ok)
        #expect(changed.headerFields[HTTPField.Name("ETag")!] != etag)
    }

    @Test func headAndOtherMethods() async throws {
        let tree = try Tree()
        let files = StaticFiles(root: tree.publicPath)
        let head = await files.handler()(self.request("/style.css", method: .head))
        #expect(head.status == .ok)
        #expect(head.body.readableBytes == 0)
        #expect(head.headerFields[HTTPField.Name("Content-Type")!] == "text/css; charset=utf-8")
        let post = await files.handler()(self.request("/style.css", method: .post))
        #expect(post.status == .methodNotAllowed)
    }

    @Test func unknownPathsAre404OrGoToTheFallback() async throws {
        let tree = try Tree()
        let files = StaticFiles(root: tree.publicPath)
        #expect(await get(files, "/nope.html").status == .notFound)
        #expect(await get(files, "/sub/nope").status == .notFound)
        let fallback = files.handler(fallback: { _ in .text("fallback") })
        #expect(String(buffer: await fallback(self.request("/nope")).body) == "fallback")
        #expect(files.response(for: self.request("/nope")) == nil)
        #expect(files.response(for: self.request("/anything"), file: "style.css")?.status == .ok)
        #expect(files.response(for: self.request("/anything"), file: "../secret.txt") == nil)
        // a missing root serves nothing
        #expect(await get(StaticFiles(root: tree.base + "/missing"), "/").status == .notFound)
    }

    @Test(arguments: [
        "/../secret.txt", "/sub/../../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/%2e%2e%2fsecret.txt", "/.%2e/secret.txt", "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt",
        "/..\\secret.txt", "/..%5csecret.txt", "/sub%2f..%2f..%2fsecret.txt", "/%c0%ae%c0%ae/secret.txt",
        "/style.css%00.html", "/escape.txt", "/up/secret.txt",
        "/.env", "/./style.css", "/sub/./index.html", "/%2fetc/passwd", "/C:/Windows/win.ini", "/%", "/%zz",
        "..", "secret.txt", "/..", "/.../secret.txt",
    ])
    func traversalIsRefused(path: String) async throws {
        let tree = try Tree()
        let files = StaticFiles(root: tree.publicPath)
        let response = await files.handler(fallback: { _ in .text("fallback reached", status: .notFound) })(self.request(path))
        #expect(response.status == .notFound)
        #expect(!String(buffer: response.body).contains("TOP SECRET"))
        #expect(!String(buffer: response.body).contains("body {"))
    }

    @Test func rawNULNeverReachesTheFiles() {
        // swift-http-types legalizes field values (the path is one): a raw NUL cannot cut a path short
        #expect(self.request("/style.css\u{0}.html").head.path?.utf8.contains(0) == false)
    }

    @Test func safeSegments() {
        #expect(StaticFiles.safeSegments(rawPath: "/") == [])
        #expect(StaticFiles.safeSegments(rawPath: "/a/b%20c/d.txt") == ["a", "b c", "d.txt"])
        #expect(StaticFiles.safeSegments(rawPath: "/a/../b") == nil)
        #expect(StaticFiles.safeSegments(rawPath: "/a%2fb") == nil)
        #expect(StaticFiles.safeSegments(rawPath: "relative") == nil)
    }

    @Test func httpDate() {
        #expect(StaticFiles.httpDate(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(StaticFiles.httpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}

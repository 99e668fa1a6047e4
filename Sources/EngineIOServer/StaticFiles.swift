import EngineIOCore
import Foundation
import HTTPTypes
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves the files of one folder over HTTP: content types, `Cache-Control`, `ETag` and
/// `Last-Modified` with 304 answers, `index.html` for folders, and never a file outside the folder.
///
/// ```swift
/// let files = StaticFiles(root: "/srv/public")
/// try await io.listen(port: 3000, application: files.handler())
/// ```
///
/// A request path is refused (404) when any of its segments is `.` or `..`, starts with a dot (hidden
/// files), or decodes to something holding `/`, `\`, `%` or a control character (so `%2e%2e`,
/// `..%2f`, `%252e%252e` and `..\` never walk up); and a file whose real path (symlinks resolved) is
/// not inside the root's real path is never served.
public struct StaticFiles: Sendable {
    /// The folder served, as given.
    public let root: String
    /// The folder's real path (symlinks resolved); nil when it does not exist.
    public let resolvedRoot: String?
    /// `Cache-Control` of every file answer.
    public var cacheControl: String
    /// The file served for a folder (`/` gives `/index.html`).
    public var indexFile: String
    /// The most bytes a served file may have (bigger files are 404: this is for pages and assets).
    public var maxFileSize: Int

    /// Serves `root`. By default browsers revalidate each time (cheap with the ETag).
    public init(root: String, cacheControl: String = "public, max-age=0, must-revalidate", indexFile: String = "index.html", maxFileSize: Int = 16 << 20) {
        self.root = root
        self.resolvedRoot = StaticFiles.realPath(root)
        self.cacheControl = cacheControl
        self.indexFile = indexFile
        self.maxFileSize = maxFileSize
    }

    /// A handler serving the folder; requests that match no file go to `fallback` (404 by default).
    /// Refused (unsafe) paths are 404 at once.
    public func handler(fallback: HTTPRequestHandler? = nil) -> HTTPRequestHandler {
        { request in
            switch self.lookup(request) {
            case .response(let response): return response
            case .notFound: return await fallback?(request) ?? .notFound
            case .refused: return .notFound
            }
        }
    }

    /// The answer for `request`: a file, 304, 405 for other methods, or nil when no file matches (or
    /// the path is refused).
    public func response(for request: HTTPServerRequest) -> HTTPServerResponse? {
        if case .response(let response) = self.lookup(request) { return response }
        return nil
    }

    /// Serves the file at `relativePath` (a path inside the folder, like `admin.html`) for `request`,
    /// whatever the request's own path; nil when there is no such file or the path is unsafe.
    public func response(for request: HTTPServerRequest, file relativePath: String) -> HTTPServerResponse? {
        guard let segments = StaticFiles.safeSegments(rawPath: "/" + relativePath) else { return nil }
        if case .response(let response) = self.serve(segments: segments, request: request) { return response }
        return nil
    }

    // MARK: Lookup

    enum Lookup {
        case response(HTTPServerResponse)
        case notFound
        case refused
    }

    func lookup(_ request: HTTPServerRequest) -> Lookup {
        guard let segments = StaticFiles.safeSegments(rawPath: request.target.rawPath) else { return .refused }
        return self.serve(segments: segments, request: request)
    }

    private func serve(segments: [String], request: HTTPServerRequest) -> Lookup {
        guard let rootPath = self.resolvedRoot else { return .notFound }
        var path = ([rootPath] + segments).joined(separator: "/")
        var info = stat()
        guard stat(path, &info) == 0 else { return .notFound }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            path += "/" + self.indexFile
            guard stat(path, &info) == 0 else { return .notFound }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .notFound }
        // Symlinks may point anywhere: the real path must stay under the root.
        guard let real = StaticFiles.realPath(path), real.hasPrefix(rootPath.hasSuffix("/") ? rootPath : rootPath + "/") else {
            return .refused
        }
        guard request.method == .get || request.method == .head else {
            return .response(HTTPServerResponse(status: .methodNotAllowed, headerFields: [.allow: "GET, HEAD"]))
        }
        guard Int(info.st_size) <= self.maxFileSize else { return .notFound }

        #if canImport(Darwin)
        let seconds = Int(info.st_mtimespec.tv_sec)
        let nanoseconds = Int(info.st_mtimespec.tv_nsec)
        #else
        let seconds = Int(info.st_mtim.tv_sec)
        let nanoseconds = Int(info.st_mtim.tv_nsec)
        #endif
        let etag = "\"\(String(Int(info.st_size), radix: 36))-\(String(seconds, radix: 36))\(String(nanoseconds, radix: 36))\""
        let lastModified = StaticFiles.httpDate(seconds)
        var headers: HTTPFields = [
            .cacheControl: self.cacheControl,
            .eTag: etag,
            .lastModified: lastModified,
            .xContentTypeOptions: "nosniff",
        ]
        if let ifNoneMatch = request.headerFields[.ifNoneMatch] {
            let tags = ifNoneMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if tags.contains("*") || tags.contains(etag) || tags.contains("W/" + etag) {
                return .response(HTTPServerResponse(status: .notModified, headerFields: headers))
            }
        } else if let since = request.headerFields[.ifModifiedSince], since == lastModified {
            return .response(HTTPServerResponse(status: .notModified, headerFields: headers))
        }
        guard let data = FileManager.default.contents(atPath: real) else { return .notFound }
        headers[.contentType] = StaticFiles.contentType(forPath: real)
        let body = request.method == .head ? ByteBuffer() : ByteBuffer(bytes: data)
        return .response(HTTPServerResponse(status: .ok, headerFields: headers, body: body))
    }

    // MARK: Pure parts

    /// The decoded segments of a raw (still percent-encoded) request path, or nil when the path is
    /// unsafe. Empty segments are dropped (`//a` is `/a`).
    static func safeSegments(rawPath: String) -> [String]? {
        guard rawPath.hasPrefix("/") else { return nil }
        var segments: [String] = []
        for raw in rawPath.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            guard let segment = RequestTarget.percentDecode(raw, plusIsSpace: false) else { return nil }
            if segment.hasPrefix(".") { return nil }  // ".", "..", and hidden files
            for scalar in segment.unicodeScalars {
                switch scalar {
                case "/", "\\", "%", ":": return nil
                case _ where scalar.value < 0x20 || scalar.value == 0x7f: return nil
                default: continue
                }
            }
            segments.append(segment)
        }
        return segments
    }

    /// The content type of a file, from its extension.
    public static func contentType(forPath path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json", "map": return "application/json; charset=utf-8"
        case "txt": return "text/plain; charset=utf-8"
        case "xml": return "application/xml; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "avif": return "image/avif"
        case "ico": return "image/x-icon"
        case "woff": return "font/woff"
        case "woff2": return "font/woff2"
        case "ttf": return "font/ttf"
        case "otf": return "font/otf"
        case "wasm": return "application/wasm"
        case "webmanifest": return "application/manifest+json"
        case "pdf": return "application/pdf"
        case "mp3": return "audio/mpeg"
        case "mp4": return "video/mp4"
        case "webm": return "video/webm"
        default: return "application/octet-stream"
        }
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for seconds since 1970.
    static func httpDate(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

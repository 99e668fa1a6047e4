import EngineIOServer
import Foundation
import NIOCore
import HTTPTypes

/// The browser client, served at `<path>socket.io.js` (`/socket.io/socket.io.js`) as the Node.js server
/// serves its own.
enum ClientScript {
    /// The script's bytes, read once from the module's resources.
    static let source: ByteBuffer = {
        guard let url = Bundle.module.url(forResource: "socket.io", withExtension: "js"),
            let data = try? Data(contentsOf: url)
        else { return ByteBuffer(string: "/* socket.io.js missing from the build */") }
        return ByteBuffer(bytes: data)
    }()

    /// A strong validator for the script, so browsers revalidate cheaply.
    static let etag: String = {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in source.readableBytesView {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "\"\(String(hash, radix: 36))\""
    }()

    /// Where the script is served for an engine at `enginePath`.
    static func path(under enginePath: String) -> String {
        (enginePath.hasSuffix("/") ? enginePath : enginePath + "/") + "socket.io.js"
    }

    /// Wraps `application` so that `<enginePath>socket.io.js` answers with the client.
    static func serving(at enginePath: String, before application: HTTPRequestHandler?) -> HTTPRequestHandler {
        let scriptPath = self.path(under: enginePath)
        return { request in
            guard request.path == scriptPath, request.method == .get || request.method == .head else {
                return await application?(request) ?? .notFound
            }
            var headers: HTTPFields = [
                .contentType: "application/javascript; charset=utf-8",
                .cacheControl: "public, max-age=0",
                .eTag: etag,
            ]
            if request.headerFields[.ifNoneMatch] == etag {
                headers[.contentType] = nil
                return HTTPServerResponse(status: .notModified, headerFields: headers)
            }
            return HTTPServerResponse(status: .ok, headerFields: headers, body: request.method == .head ? ByteBuffer() : source)
        }
    }
}

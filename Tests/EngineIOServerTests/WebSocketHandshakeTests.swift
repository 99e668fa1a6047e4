import NIOHTTP1
import Testing

@testable import EngineIOServer

@Suite("WebSocket handshake")
struct WebSocketHandshakeTests {
    private func request(
        method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        _ headers: [(String, String)]? = nil,
        extensions: [String] = []
    ) -> HTTPRequestHead {
        var fields = HTTPHeaders(
            headers ?? [
                ("Host", "example.com"),
                ("Upgrade", "websocket"),
                ("Connection", "keep-alive, Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ]
        )
        for value in extensions {
            fields.add(name: "Sec-WebSocket-Extensions", value: value)
        }
        return HTTPRequestHead(version: version, method: method, uri: "/", headers: fields)
    }

    @Test func acceptKeyMatchesRFC6455Example() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func sha1KnownVectors() {
        func hex(_ bytes: [UInt8]) -> String {
            bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        #expect(hex(SHA1.hash("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash("".utf8)) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        let long = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(hex(SHA1.hash(long.utf8)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(SHA1.hash(Array(repeating: UInt8(ascii: "a"), count: 1_000))) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }

    @Test func acceptsValidRequest() throws {
        let accepted = try WebSocketHandshake.accept(self.request(), configuration: .init())
        #expect(accepted.responseHead.status == .switchingProtocols)
        #expect(accepted.headers["Upgrade"] == ["websocket"])
        #expect(accepted.headers["Connection"] == ["Upgrade"])
        #expect(accepted.headers["Sec-WebSocket-Accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])
        #expect(accepted.headers["Sec-WebSocket-Extensions"].isEmpty)
        #expect(accepted.permessageDeflate == nil)
        #expect(WebSocketHandshake.isUpgradeRequest(self.request()))
    }

    @Test func headerTokensAreCaseInsensitive() throws {
        let head = self.request([
            ("Upgrade", "WebSocket"), ("Connection", "UPGRADE"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ])
        _ = try WebSocketHandshake.accept(head, configuration: .init())
    }

    @Test func rejectsBadRequests() {
        func error(_ head: HTTPRequestHead) -> WebSocketHandshakeError? {
            do {
                _ = try WebSocketHandshake.accept(head, configuration: .init())
                return nil
            } catch {
                return error
            }
        }
        let key = ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        let version = ("Sec-WebSocket-Version", "13")
        let upgrade = ("Upgrade", "websocket")
        let connection = ("Connection", "Upgrade")
        #expect(error(self.request(method: .POST)) == .methodNotGet)
        #expect(error(self.request(version: .http1_0)) == .httpVersionTooOld)
        #expect(error(self.request([connection, key, version])) == .missingUpgradeHeader)
        #expect(error(self.request([upgrade, ("Connection", "keep-alive"), key, version])) == .missingConnectionUpgrade)
        #expect(error(self.request([upgrade, connection, key])) == .unsupportedVersion)
        #expect(error(self.request([upgrade, connection, key, ("Sec-WebSocket-Version", "8")])) == .unsupportedVersion)
        #expect(error(self.request([upgrade, connection, version])) == .invalidKey)
        #expect(error(self.request([upgrade, connection, version, ("Sec-WebSocket-Key", "short")])) == .invalidKey)
        // 15 bytes, not 16.
        #expect(error(self.request([upgrade, connection, version, ("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA")])) == .invalidKey)
        #expect(error(self.request([upgrade, connection, version, ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=!")])) == .invalidKey)
        #expect(error(self.request([upgrade, connection, version, key, key])) == .invalidKey)
        #expect(WebSocketHandshakeError.unsupportedVersion.status == .upgradeRequired)
        #expect(WebSocketHandshakeError.unsupportedVersion.responseHeaders["Sec-WebSocket-Version"] == ["13"])
        #expect(WebSocketHandshakeError.invalidKey.status == .badRequest)
    }

    @Test func negotiatesDeflateOnlyWhenEnabled() throws {
        let head = self.request(extensions: ["permessage-deflate; client_max_window_bits"])
        let off = try WebSocketHandshake.accept(head, configuration: .init())
        #expect(off.permessageDeflate == nil)
        let on = try WebSocketHandshake.accept(head, configuration: .init(permessageDeflate: .init()))
        #expect(on.permessageDeflate != nil)
        #expect(on.headers["Sec-WebSocket-Extensions"] == ["permessage-deflate"])
    }
}

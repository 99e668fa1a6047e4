import EngineIOCore
import NIOCore
import NIOHTTP1
import Testing

@testable import EngineIOServer

@Suite("Stored handshake")
struct StoredHandshakeTests {
    @Test func theRequestComesBackAsItWas() throws {
        let headers = HTTPHeaders([
            ("Host", "example.com:3000"),
            ("Cookie", "a=1"),
            ("Cookie", "b=2"),
            ("X-Long-Header-Name-Beyond-Fifteen", "välue: with a colon and ünicode"),
            ("Empty", ""),
        ])
        let original = EngineHandshakeRequest(
            uri: "/socket.io/?EIO=4&transport=websocket&x=%C3%A9",
            target: RequestTarget("/socket.io/?EIO=4&transport=websocket&x=%C3%A9"),
            httpHeaders: headers,
            remoteAddress: try SocketAddress(ipAddress: "10.1.2.3", port: 4567),
            isSecure: true,
            time: .uptimeNanoseconds(42),
            transport: .websocket,
            user: "alice"
        )
        let request = StoredHandshake(original).request
        #expect(request.uri == original.uri)
        #expect(request.target == original.target)
        #expect(request.query["x"] == "é")
        #expect(request.httpHeaders.map { "\($0.name)=\($0.value)" } == headers.map { "\($0.name)=\($0.value)" })
        #expect(request.remoteAddress == original.remoteAddress)
        #expect(request.isSecure && request.transport == .websocket && request.time == original.time)
        #expect(request.user as? String == "alice")
    }

    @Test func aRequestWithoutHeaders() {
        let original = EngineHandshakeRequest(
            uri: "/",
            target: RequestTarget("/"),
            httpHeaders: HTTPHeaders(),
            remoteAddress: nil,
            isSecure: false,
            time: .uptimeNanoseconds(0),
            transport: .polling
        )
        let request = StoredHandshake(original).request
        #expect(request.uri == "/" && request.httpHeaders.isEmpty && request.remoteAddress == nil && request.user == nil)
    }
}

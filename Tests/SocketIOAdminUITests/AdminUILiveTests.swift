import NIOConcurrencyHelpers
import SocketIOClient
import SocketIOCore
import SocketIOServer
import Testing

@testable import SocketIOAdminUI

/// `AdminUI.instrument` end to end, with the Swift client acting as the page (the interop tests do the same
/// with python-socketio and Chromium).
@Suite("Admin UI against the Swift client", .serialized)
struct AdminUILiveTests {
    /// Records events from any thread and waits for one that matches.
    final class Recorder: Sendable {
        private let events = NIOLockedValueBox<[(String, [JSONValue])]>([])

        func record(_ event: String, _ arguments: [JSONValue]) { self.events.withLockedValue { $0.append((event, arguments)) } }

        func all(_ event: String) -> [[JSONValue]] { self.events.withLockedValue { $0.filter { $0.0 == event }.map(\.1) } }

        func first(_ event: String, seconds: Double = 10, where match: @Sendable ([JSONValue]) -> Bool = { _ in true }) async throws -> [JSONValue] {
            let clock = ContinuousClock()
            let deadline = clock.now + .milliseconds(Int(seconds * 1000))
            while clock.now < deadline {
                if let found = self.all(event).first(where: match) { return found }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw AdminTestTimeout(event: event)
        }
    }

    struct AdminTestTimeout: Error { var event: String }

    @Test("basic auth, session reuse, config, server_stats and a socket's lifecycle")
    func endToEnd() async throws {
        let io = SocketIO()
        io.on(.connection) { socket in
            socket.on("join") { args, ack in
                if let room = args.first?.stringValue { socket.join(room) }
                ack?()
            }
        }
        let hash = BCrypt.hash("s3cret", cost: 4)
        let admin = try AdminUI.instrument(
            io, AdminUIOptions(auth: .basic(username: "admin", passwordHash: hash), serverId: "swift-1", statsInterval: .milliseconds(200)))
        let http = try await io.listen(host: "127.0.0.1", port: 0)
        let url = "http://127.0.0.1:\(http.port!)"
        var options = SocketOptions()
        options.transports = [.websocket]
        options.reconnection = false

        // refused
        let refusedManager = try Manager(url: url, options: options)
        let errors = NIOLockedValueBox<[String]>([])
        let refused = refusedManager.socket("/admin", auth: .value(["username": "admin", "password": "wrong"]))
        refused.onConnectError { error in errors.withLockedValue { $0.append(error.message) } }
        refused.open()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while errors.withLockedValue({ $0.isEmpty }) && clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(errors.withLockedValue { $0 } == ["invalid credentials"])
        refusedManager.close()

        // accepted
        let manager = try Manager(url: url, options: options)
        let page = Recorder()
        let pageSocket = manager.socket("/admin", auth: .value(["username": "admin", "password": "s3cret"]))
        pageSocket.onAny { event, arguments in page.record(event, arguments) }
        pageSocket.open()
        let sessionId = try #require(try await page.first("session").first?.stringValue)
        #expect(sessionId.count == 16)
        #expect(try await page.first("config") == [["supportedFeatures": .array(admin.supportedFeatures.map { .string($0) })]])
        let stats = try await page.first("server_stats")[0]
        #expect(stats["serverId"] == "swift-1")
        _ = try await page.first("all_sockets")

        let user = manager.socket("/")
        user.open()
        let connected = try await page.first("socket_connected") { $0.first?["nsp"] == "/" }
        let userId = try #require(connected[0]["id"]?.stringValue)
        #expect(connected[0]["transport"] == "websocket")
        _ = try await user.emitWithAck("join", "red")
        let joined = try await page.first("room_joined") { $0.count > 1 && $0[1] == "red" }
        #expect(Array(joined.prefix(3)) == ["/", "red", .string(userId)])
        _ = try await page.first("event_received") { $0.count > 2 && $0[1] == .string(userId) }
        user.disconnect()
        _ = try await page.first("socket_disconnected") { $0.count > 2 && $0[1] == .string(userId) }
        manager.close()

        // the session is accepted again, without the password
        let again = try Manager(url: url, options: options)
        let secondPage = Recorder()
        let secondSocket = again.socket("/admin", auth: .value(["sessionId": .string(sessionId)]))
        secondSocket.onAny { event, arguments in secondPage.record(event, arguments) }
        secondSocket.open()
        _ = try await secondPage.first("config")
        #expect(secondPage.all("session").isEmpty)
        again.close()
        admin.stop()
        try await io.close()
    }

    @Test("socket.data set by a middleware, then changed deep inside: one socket_updated per change, whole data")
    func nestedDataChanges() async throws {
        let io = SocketIO()
        io.of("/").use { socket in socket.data = ["user": ["name": "ann", "tags": ["a"]]] }
        io.on(.connection) { socket in
            socket.on("rename") { args, ack in
                socket.data["user"]?["name"] = args.first
                socket.data["user"]?["tags"]?[0] = "b"
                ack?()
            }
        }
        let admin = try AdminUI.instrument(io, AdminUIOptions(auth: .none))
        let http = try await io.listen(host: "127.0.0.1", port: 0)
        var options = SocketOptions()
        options.transports = [.websocket]
        options.reconnection = false
        let manager = try Manager(url: "http://127.0.0.1:\(http.port!)", options: options)
        let page = Recorder()
        let pageSocket = manager.socket("/admin")
        pageSocket.onAny { event, arguments in page.record(event, arguments) }
        pageSocket.open()
        _ = try await page.first("config")

        let user = manager.socket("/")
        user.open()
        let connected = try await page.first("socket_connected") { $0.first?["nsp"] == "/" }
        let userId = try #require(connected[0]["id"]?.stringValue)
        #expect(connected[0]["data"] == ["user": ["name": "ann", "tags": ["a"]]])
        #expect(page.all("socket_updated") == [[["id": .string(userId), "nsp": "/", "data": ["user": ["name": "ann", "tags": ["a"]]]]]])

        _ = try await user.emitWithAck("rename", "bea")
        let last: JSONValue = ["user": ["name": "bea", "tags": ["b"]]]
        _ = try await page.first("socket_updated") { $0.first?["data"] == last }
        let updates = page.all("socket_updated").map { $0[0]["data"] }
        #expect(updates == [["user": ["name": "ann", "tags": ["a"]]], ["user": ["name": "bea", "tags": ["a"]]], last])
        manager.close()
        admin.stop()
        try await io.close()
    }

    @Test func aPasswordHashThatIsNotBcryptIsRefused() {
        #expect(throws: AdminUIError.self) {
            try AdminUI.instrument(SocketIO(), AdminUIOptions(auth: .basic(username: "admin", passwordHash: "secret")))
        }
    }
}

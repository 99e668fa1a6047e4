import NIOConcurrencyHelpers
import NIOCore
import SocketIOServer
import Testing

import SocketIOClient

typealias ClientSocket = SocketIOClient.Socket

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(self.what)" }
}

/// Runs `body`, failing after `seconds`.
func within<T: Sendable>(_ seconds: Double, _ what: String = "the test", _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TimedOut(what: what)
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}

/// Collects values from any thread; `wait(count:)` polls until enough arrived.
final class Collector<Value: Sendable>: Sendable {
    private let state = NIOLockedValueBox<[Value]>([])

    func append(_ value: Value) {
        self.state.withLockedValue { $0.append(value) }
    }

    var values: [Value] { self.state.withLockedValue { $0 } }

    func wait(count: Int, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Value] {
        try await self.wait(until: { $0.count >= count }, "\(count) values", seconds: seconds, sourceLocation: sourceLocation)
    }

    /// Waits until a value matching `predicate` arrived; returns the values so far.
    func wait(where predicate: @escaping (Value) -> Bool, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Value] {
        try await self.wait(until: { $0.contains(where: predicate) }, "a matching value", seconds: seconds, sourceLocation: sourceLocation)
    }

    private func wait(until done: ([Value]) -> Bool, _ what: String, seconds: Double, sourceLocation: SourceLocation) async throws -> [Value] {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        while true {
            let values = self.values
            if done(values) { return values }
            guard clock.now < deadline else {
                throw TimedOut(what: "\(what) at line \(sourceLocation.line) (have \(values.count): \(values))")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Our server with the events the client suite drives, on 127.0.0.1 and a free port.
final class TestServer: Sendable {
    let io: SocketIO
    let http: HTTPServer
    let port: Int

    var url: String { "http://127.0.0.1:\(self.port)" }

    static func start(port: Int = 0) async throws -> TestServer {
        let io = SocketIO()
        io.on(.connection) { socket in
            socket.emit("auth", socket.handshake.auth)
            socket.on("message") { args, _ in socket.emit("message-back", arguments: args) }
            socket.on("echo") { args, ack in ack?.send(args) }
            socket.on("no-ack") { _, _ in }
            socket.on("hello") { args, _ in socket.emit("hello-back", arguments: args) }
            socket.on("record") { args, ack in
                socket.emit("recorded", arguments: args)
                ack?.send(args)
            }
            socket.on("server-ack") { (args: [JSONValue], ack: SocketAck?) async in
                guard let event = args.first?.stringValue else { return }
                do {
                    let answer = try await socket.timeout(.seconds(2)).emitWithAck(event, arguments: Array(args.dropFirst()))
                    ack?(["ok": true, "args": .array(answer)])
                } catch {
                    ack?(["ok": false])
                }
            }
            socket.on("kick") { _, _ in socket.disconnect() }
            socket.on("typed-echo", as: TypedEcho.self) { value, ack in try ack?.send(encoding: value) }
        }
        io.of("/custom").on(.connection) { socket in
            socket.emit("auth", socket.handshake.auth)
            socket.on("echo") { args, ack in ack?.send(args) }
        }
        let admin = io.of("/admin")
        admin.use { socket in
            guard socket.handshake.auth["token"]?.stringValue == "secret" else {
                throw ConnectionRefused("unauthorized", data: ["reason": "bad token"])
            }
        }
        admin.on(.connection) { socket in socket.emit("welcome", ["ns": "/admin"]) }
        let http = try await io.listen(host: "127.0.0.1", port: port)
        return TestServer(io: io, http: http)
    }

    private init(io: SocketIO, http: HTTPServer) {
        self.io = io
        self.http = http
        self.port = http.port!
    }

    func stop() async throws {
        try await self.io.close()
    }
}

/// The payload of the typed events of the tests (`typed-echo` on our server, as in the conformance fixture).
struct TypedEcho: Codable, Sendable, Equatable {
    var text: String
    var n: Int
}

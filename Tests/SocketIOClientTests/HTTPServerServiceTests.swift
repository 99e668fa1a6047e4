import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SocketIOServer
import Testing

import SocketIOClient

/// `io.makeHTTPServer(...)` under a ServiceLifecycle `ServiceGroup`: it binds when the group runs it, not
/// before, and the group's graceful shutdown tells every client, drains, and only then lets `run()` return.
@Suite("HTTPServer as a Service", .serialized, .timeLimit(.minutes(2)))
struct HTTPServerServiceTests {
    @Test("binds in run(), serves, and a graceful shutdown closes every client before run() returns", arguments: [Mode.websocket, .polling])
    func bindsInRunAndShutsDownGracefully(mode: Mode) async throws {
        let io = SocketIO()
        let serverReasons = Collector<String>()
        io.on(.connection) { socket in
            socket.on("echo") { args, ack in ack?.send(args) }
            socket.onDisconnect { reason in serverReasons.append(reason.description) }
        }
        let server = io.makeHTTPServer(host: "127.0.0.1", port: 0)
        #expect(server.port == nil, "not listening before the service group runs it")

        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: server)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let address = try await within(10, "the server to bind") { try await server.localAddress }
        let port = try #require(address.port)
        #expect(server.port == port)

        let manager = try Manager(url: "http://127.0.0.1:\(port)", options: options(mode))
        let socket = try await connectedSocket(manager)
        let clientReasons = Collector<String>()
        socket.onDisconnect { clientReasons.append($0) }
        let echoed = try await socket.timeout(.seconds(5)).emitWithAck("echo", "before the shutdown")
        #expect(echoed == ["before the shutdown"])

        await group.triggerGracefulShutdown()
        try await within(15, "run() to return after the shutdown") { try await running.value }
        // run() returned only after the sessions were closed: both ends already know
        #expect(serverReasons.values == ["server shutting down"])
        _ = try await clientReasons.wait(count: 1, seconds: 5)
        #expect(!socket.connected)
        // nothing listens any more
        #expect(await acceptsConnections(port: port) == false)
    }

    @Test("a port already in use: run() throws and localAddress throws the same error")
    func bindFailureIsReported() async throws {
        let first = SocketIO().makeHTTPServer(host: "127.0.0.1", port: 0)
        try await first.start()
        let taken = try #require(first.port)
        let second = SocketIO().makeHTTPServer(host: "127.0.0.1", port: taken)
        await #expect(throws: (any Error).self) { try await second.run() }
        await #expect(throws: (any Error).self) { _ = try await second.localAddress }
        try await first.shutdown(gracePeriod: .seconds(1))
    }
}

/// Whether something accepts TCP connections on `port` of 127.0.0.1.
private func acceptsConnections(port: Int) async -> Bool {
    do {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        try? await channel.close()
        return true
    } catch {
        return false
    }
}

import NIOConcurrencyHelpers
import Testing

import SocketIOClient

/// A weak reference that can cross tasks.
final class Weak<Object: AnyObject & Sendable>: Sendable {
    private let box: NIOLockedValueBox<WeakValue>
    private struct WeakValue: @unchecked Sendable {  // the object is Sendable; `weak` is what the compiler cannot see through
        weak var object: Object?
    }

    init(_ object: Object) {
        self.box = NIOLockedValueBox(WeakValue(object: object))
    }

    var object: Object? { self.box.withLockedValue { $0.object } }

    /// Waits until the object is freed (work already submitted to the event loop may hold it for a moment).
    func waitFreed(_ what: String, seconds: Double = 5) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        while self.object != nil {
            guard clock.now < deadline else { throw TimedOut(what: "\(what) to be freed") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

@Suite("Manager and Socket lifetime", .serialized)
struct ManagerLifetimeTests {
    @Test("a Manager and its socket that never connected are freed when released")
    func neverConnected() async throws {
        let (manager, socket) = try { () throws -> (Weak<Manager>, Weak<ClientSocket>) in
            var opts = options(.websocket)
            opts.autoConnect = false
            let manager = try Manager(url: "http://127.0.0.1:1", options: opts)
            let socket = manager.socket("/")
            socket.on("event") { _ in }
            return (Weak(manager), Weak(socket))
        }()
        try await manager.waitFreed("the manager")
        try await socket.waitFreed("the socket")
    }

    @Test("a connected Manager and its sockets are freed once closed and released", arguments: Mode.allCases)
    func closedAndReleased(mode: Mode) async throws {
        let server = try await TestServer.start()
        let (manager, main, custom) = try await { () async throws -> (Weak<Manager>, Weak<ClientSocket>, Weak<ClientSocket>) in
            let manager = try Manager(url: server.url, options: options(mode))
            let main = try await connectedSocket(manager)
            let custom = try await connectedSocket(manager, "/custom")
            #expect(try await main.timeout(.seconds(5)).emitWithAck("echo", "still here") == ["still here"])
            let reasons = Collector<String>()
            main.onDisconnect { reasons.append($0) }
            manager.close()
            #expect(try await reasons.wait(count: 1) == ["io client disconnect"])
            return (Weak(manager), Weak(main), Weak(custom))
        }()
        try await manager.waitFreed("the manager")
        try await main.waitFreed("the main namespace's socket")
        try await custom.waitFreed("the /custom socket")
        try await server.stop()
    }

    @Test("a socket disconnected by the application is freed with its Manager when released")
    func disconnectedSocket() async throws {
        let server = try await TestServer.start()
        let (manager, socket) = try await { () async throws -> (Weak<Manager>, Weak<ClientSocket>) in
            let socket = try ClientSocket.connect(to: server.url, options: options(.websocket))
            let connected = Collector<Bool>()
            socket.onConnect { connected.append(true) }
            if !socket.connected { _ = try await connected.wait(count: 1) }
            let manager = socket.manager
            socket.disconnect()
            return (Weak(manager), Weak(socket))
        }()
        try await socket.waitFreed("the socket")
        try await manager.waitFreed("its manager")
        try await server.stop()
    }

    @Test("an active socket lives while only its Manager is held, and goes with it once closed")
    func activeSocketKeptByItsManager() async throws {
        let server = try await TestServer.start()
        var manager: Manager? = try Manager(url: server.url, options: options(.websocket))
        let backs = Collector<[JSONValue]>()
        let socket = Weak(try await { () async throws -> ClientSocket in
            let socket = try await connectedSocket(manager!)
            socket.on("message-back") { backs.append($0) }
            return socket
        }())
        // Nothing but the connection holds the socket: its listener still runs, and the Manager gives it back.
        try await Task.sleep(for: .milliseconds(50))
        #expect(socket.object != nil)
        manager!.socket("/").emit("message", "kept")
        #expect(try await backs.wait(count: 1) == [["kept"]])
        #expect(manager!.socket("/") === socket.object)

        let weakManager = Weak(manager!)
        manager!.close()
        manager = nil
        try await weakManager.waitFreed("the manager")
        try await socket.waitFreed("the socket")
        try await server.stop()
    }
}

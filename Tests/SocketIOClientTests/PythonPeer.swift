#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix

/// The python-socketio server of the interop tests (`Tests/Interop/swiftclient_server.py`, aiohttp), started
/// on a free 127.0.0.1 port: the real peer of the client tests that need one.
///
/// The interpreter is `SOCKETIO_PYTHON`, else the repository's `.venv/bin/python` (`scripts/setup-peers.sh`
/// makes it; `scripts/test` runs it before `swift test`). A missing interpreter fails the test, never skips it.
final class PythonPeer: Sendable {
    let port: Int
    private let process: Process

    var url: String { "http://127.0.0.1:\(self.port)" }

    private static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Starts the server; a free port taken by someone else before the server binds it (other test runs
    /// share the machine) makes it exit at once: then it is tried again on another port, three times.
    static func start() async throws -> PythonPeer {
        var attempt = 1
        while true {
            do {
                return try await Self.startOnce()
            } catch let error as PeerError where error.exitedAtStart && attempt < 3 {
                attempt += 1
            }
        }
    }

    private static func startOnce() async throws -> PythonPeer {
        let python = ProcessInfo.processInfo.environment["SOCKETIO_PYTHON"]
            ?? Self.repository.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PeerError(description: "no Python at \(python): run scripts/setup-peers.sh or set SOCKETIO_PYTHON")
        }
        let port = try await Self.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            Self.repository.appendingPathComponent("Tests/Interop/swiftclient_server.py").path,
            "--host", "127.0.0.1", "--port", "\(port)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let peer = PythonPeer(port: port, process: process)
        try await peer.waitUntilListening()
        return peer
    }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// Stops the server with SIGKILL (aiohttp's graceful stop on SIGTERM waits for its clients), without
    /// waiting: `waitUntilExit()` can block a thread of the concurrency pool for good, and the kernel frees the
    /// port when the process dies.
    func stop() async {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGKILL)
    }

    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    /// Polls until the server accepts a TCP connection (aiohttp takes a moment to import and bind).
    private func waitUntilListening() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while clock.now < deadline {
            guard self.process.isRunning else { throw PeerError(description: "swiftclient_server.py exited at start", exitedAtStart: true) }
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: self.port).get() {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await self.stop()
        throw PeerError(description: "swiftclient_server.py did not listen on \(self.port) within 30 s")
    }
}

struct PeerError: Error, CustomStringConvertible {
    var description: String
    var exitedAtStart = false
}

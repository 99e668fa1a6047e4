import EngineIOCore
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import EngineIOServer

/// `EngineServer.trafficObserver`: what instrumentation (the Admin UI) counts, on a live polling session.
@Suite(.timeLimit(.minutes(2))) struct EngineTrafficObserverTests {
    final class Recorder: EngineTrafficObserver {
        let entries = NIOLockedValueBox<[String]>([])
        private func add(_ entry: String) { self.entries.withLockedValue { $0.append(entry) } }
        func sessionOpened(_ session: EngineSocket, transport: EngineTransport) { self.add("opened \(transport)") }
        func sessionUpgraded(_ session: EngineSocket) { self.add("upgraded") }
        func sessionClosed(_ session: EngineSocket, reason: EngineCloseReason, wasPolling: Bool) {
            self.add("closed \(reason.name)\(wasPolling ? " while polling" : "")")
        }
        func messageReceived(_ session: EngineSocket, bytes: Int) { self.add("in \(bytes)") }
        func messageSent(_ session: EngineSocket, bytes: Int) { self.add("out \(bytes)") }
    }

    @Test func sessionsMessagesBytesAndTheCloseAreReported() async throws {
        try await EngineTestServer.with { server in
            let recorder = Recorder()
            server.engine.trafficObserver = recorder
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            // two messages (text, binary), echoed; the close packet is not a message
            #expect(try await connection.request("POST", uri, body: "4hello\u{1e}bAQIDBA==").text == "ok")
            #expect(try await connection.request("GET", uri).text == "4hello\u{1e}bAQIDBA==")
            #expect(try await connection.request("POST", uri, body: "1").text == "ok")
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(5)
            while !recorder.entries.withLockedValue({ $0.contains { $0.hasPrefix("closed") } }) && clock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(
                recorder.entries.withLockedValue { $0 } == [
                    "opened polling", "in 5", "out 5", "in 4", "out 4", "closed transport close while polling",
                ])
        }
    }

    @Test func nothingIsReportedWithoutAnObserverNorForSessionsOpenedBeforeIt() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let recorder = Recorder()
            server.engine.trafficObserver = recorder
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            #expect(try await connection.request("POST", uri, body: "4hello").text == "ok")
            #expect(try await connection.request("GET", uri).text == "4hello")
            #expect(recorder.entries.withLockedValue { $0 }.isEmpty)
        }
    }
}

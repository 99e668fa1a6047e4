import NIOCore
import SocketIOCore
import Testing

@testable import SocketIOServer

/// The packet log and session store of connection state recovery, without sockets: offsets, which packets
/// a session gets back, and the bounds (age and bytes).
@Suite struct RecoveryLogTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func log(window: TimeAmount = .seconds(120), maxBytes: Int = 1 << 20) -> RecoveryLog {
        RecoveryLog(configuration: ConnectionStateRecovery(maxDisconnectionDuration: window, maxBufferedBytes: maxBytes), prefix: "t-")
    }

    /// The text of an encoded packet (its Engine.IO text frame, `4` prefix included).
    func text(_ encoded: EncodedMessages) -> String {
        String(buffer: encoded.frames[0].bytes)
    }

    func session(_ sid: String, rooms: Set<String>) -> PersistedSession {
        PersistedSession(sid: sid, pid: "pid-\(sid)", rooms: rooms.union([sid]), data: ["n": 1])
    }

    @Test func eachEventGetsTheNextOffsetAsItsLastArgument() {
        let log = self.log()
        let first = log.record(.event("chat", ["hi"]), options: BroadcastOptions(), now: Self.start).encoded
        let second = log.record(.event("chat", ["there", 2], namespace: "/room"), options: BroadcastOptions(), now: Self.start).encoded
        #expect(self.text(first) == #"42["chat","hi","t-1"]"#)
        #expect(self.text(second) == #"42/room,["chat","there",2,"t-2"]"#)
        #expect(log.counter(of: "t-2") == 2)
        #expect(log.counter(of: "x-2") == nil, "another log's offset")
        #expect(log.counter(of: "t-two") == nil)
    }

    @Test func aSessionGetsBackThePacketsForItsRoomsAfterItsOffset() throws {
        let log = self.log()
        let now = Self.start
        _ = log.record(.event("seen"), options: BroadcastOptions(), now: now)  // t-1, the client's offset
        _ = log.record(.event("all"), options: BroadcastOptions(), now: now)  // t-2
        _ = log.record(.event("red"), options: BroadcastOptions(rooms: ["red"]), now: now)  // t-3
        _ = log.record(.event("blue"), options: BroadcastOptions(rooms: ["blue"]), now: now)  // t-4: not its room
        _ = log.record(.event("not-a"), options: BroadcastOptions(except: ["a"]), now: now)  // t-5: excepted
        _ = log.record(.event("direct"), options: BroadcastOptions(rooms: ["a"]), now: now)  // t-6: socket.emit
        _ = log.record(.event("red-or-blue"), options: BroadcastOptions(rooms: ["red", "blue"], except: ["green"]), now: now)  // t-7
        log.persist(self.session("a", rooms: ["red"]), now: now)
        let restored = try #require(log.restore(pid: "pid-a", offset: "t-1", now: now + .seconds(1)))
        #expect(restored.session == self.session("a", rooms: ["red"]))
        #expect(restored.missedPackets.map(self.text) == [
            #"42["all","t-2"]"#, #"42["red","t-3"]"#, #"42["direct","t-6"]"#, #"42["red-or-blue","t-7"]"#,
        ])
    }

    @Test func aSessionIsRecoveredOnceAndOnlyWithinTheWindow() {
        let log = self.log(window: .seconds(10))
        _ = log.record(.event("seen"), options: BroadcastOptions(), now: Self.start).encoded
        log.persist(self.session("a", rooms: []), now: Self.start)
        log.persist(self.session("b", rooms: []), now: Self.start)
        #expect(log.restore(pid: "pid-a", offset: "t-1", now: Self.start + .seconds(5)) != nil)
        #expect(log.restore(pid: "pid-a", offset: "t-1", now: Self.start + .seconds(5)) == nil, "taken already")
        #expect(log.restore(pid: "pid-b", offset: "t-1", now: Self.start + .seconds(11)) == nil, "past the window")
        #expect(log.restore(pid: "unknown", offset: "t-1", now: Self.start) == nil)
    }

    @Test func anOffsetThatIsUnknownOrFromTheFutureRecoversNothing() {
        let log = self.log()
        _ = log.record(.event("seen"), options: BroadcastOptions(), now: Self.start).encoded
        for offset in ["t-9", "other-1", "", "t-"] {
            log.persist(self.session("a", rooms: []), now: Self.start)
            #expect(log.restore(pid: "pid-a", offset: offset, now: Self.start) == nil, "offset \(offset)")
        }
    }

    @Test func nothingMissedIsARecoveryWithNoPackets() throws {
        let log = self.log()
        _ = log.record(.event("seen"), options: BroadcastOptions(), now: Self.start).encoded
        log.persist(self.session("a", rooms: []), now: Self.start)
        let restored = try #require(log.restore(pid: "pid-a", offset: "t-1", now: Self.start))
        #expect(restored.missedPackets.isEmpty)
    }

    @Test func theOldestPacketsGoPastTheByteBoundAndTheirReadersAreNotRecovered() throws {
        // each packet is 16 bytes on the wire (`42["p","t-N"]` plus the digit)
        let one = self.text(self.log().record(.event("p"), options: BroadcastOptions(), now: Self.start).encoded).utf8.count
        let log = self.log(maxBytes: one * 3)
        for _ in 0..<5 { _ = log.record(.event("p"), options: BroadcastOptions(), now: Self.start) }
        #expect(log.usage.packets == 3 && log.usage.bytes == one * 3, "t-3, t-4, t-5 are kept")
        log.persist(self.session("late", rooms: []), now: Self.start)
        #expect(log.restore(pid: "pid-late", offset: "t-1", now: Self.start) == nil, "t-2 is gone: a gap, not recovered")
        log.persist(self.session("ok", rooms: []), now: Self.start)
        let restored = try #require(log.restore(pid: "pid-ok", offset: "t-2", now: Self.start), "t-3 onwards are all here")
        #expect(restored.missedPackets.count == 3)
    }

    @Test func packetsAndSessionsExpireWithTheWindow() {
        let log = self.log(window: .seconds(10))
        _ = log.record(.event("old"), options: BroadcastOptions(), now: Self.start).encoded
        log.persist(self.session("a", rooms: []), now: Self.start)
        _ = log.record(.event("new"), options: BroadcastOptions(), now: Self.start + .seconds(8))
        log.prune(now: Self.start + .seconds(12))
        #expect(log.usage.packets == 1 && log.usage.sessions == 0)
        log.prune(now: Self.start + .seconds(19))
        #expect(log.usage.packets == 0 && log.usage.bytes == 0)
    }

    @Test func recoverableReasonsAreNodesPlusSendBufferFull() {
        let recoverable: [DisconnectReason] = [.transportError, .transportClose, .forcedClose, .pingTimeout, .serverShuttingDown, .forcedServerClose, .sendBufferFull]
        let final: [DisconnectReason] = [.clientNamespaceDisconnect, .serverNamespaceDisconnect, .parseError]
        #expect(recoverable.filter { !$0.isRecoverable } == [])
        #expect(final.filter { $0.isRecoverable } == [])
    }
}

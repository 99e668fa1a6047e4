import NIOConcurrencyHelpers
import Testing

@testable import SocketIOServer

/// The hooks instrumentation (the Admin UI) uses: new namespaces and room changes.
@Suite struct InstrumentationHooksTests {
    @Test func newNamespacesAreAnnouncedOnce() throws {
        let io = SocketIO()
        _ = io.of("/before")
        let seen = NIOLockedValueBox<[String]>([])
        io.onNewNamespace { namespace in seen.withLockedValue { $0.append(namespace.name) } }
        _ = io.of("/before")
        _ = io.of("/after")
        _ = io.of("after")
        let parent = try io.of(matching: "^/dyn-[0-9]+$")
        #expect(seen.withLockedValue { $0 } == ["/after"], "parents of dynamic namespaces are not namespaces")
        let child = io.namespace(forConnecting: "/dyn-1", auth: .null)
        #expect(child?.parent === parent)
        _ = io.namespace(forConnecting: "/dyn-1", auth: .null)
        #expect(seen.withLockedValue { $0 } == ["/after", "/dyn-1"])
        #expect(Set(io.namespaces.map(\.name)) == ["/before", "/after", "/dyn-1"])
    }

    @Test func roomChangesAreReportedOnlyWhenRealAsNodeJoinRoomAndLeaveRoom() {
        let io = SocketIO()
        let namespace = io.of("/rooms")
        let adapter = namespace.adapter
        adapter.addAll("quiet", rooms: ["quiet", "before"])  // no listener yet: nothing kept
        let changes = NIOLockedValueBox<[RoomChange]>([])
        namespace.onRoomChange { change in changes.withLockedValue { $0.append(change) } }
        adapter.addAll("s1", rooms: ["s1"])
        adapter.addAll("s1", rooms: ["s1", "red"])  // s1 already in its own room
        adapter.del("s1", room: "blue")  // not in blue
        adapter.del("s1", room: "red")
        adapter.del("s1", room: "red")  // already left
        adapter.addAll("s1", rooms: ["green"])
        adapter.delAll("s1")
        adapter.delAll("s1")  // gone already
        #expect(
            changes.withLockedValue { $0 } == [
                .joined(room: "s1", id: "s1"), .joined(room: "red", id: "s1"), .left(room: "red", id: "s1"),
                .joined(room: "green", id: "s1"), .left(room: "s1", id: "s1"), .left(room: "green", id: "s1"),
            ])
    }
}

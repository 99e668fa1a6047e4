import Testing

@testable import SocketIOServer

/// Room bookkeeping and target selection of the default adapter (no sockets needed: ids only).
@Suite struct InMemoryAdapterTests {
    let io = SocketIOServer()

    @Test func joinsAndLeavesKeepBothIndexesInStep() {
        let adapter = InMemoryAdapter(namespace: io.of("/rooms-\(#line)"))
        adapter.addAll("a", rooms: ["a", "red", "blue"])
        adapter.addAll("b", rooms: ["b", "red"])
        #expect(adapter.rooms["red"] == ["a", "b"])
        #expect(adapter.socketRooms("a") == ["a", "red", "blue"])
        adapter.del("a", room: "red")
        #expect(adapter.rooms["red"] == ["b"])
        adapter.delAll("b")
        #expect(adapter.rooms["red"] == nil, "empty rooms disappear")
        #expect(adapter.socketRooms("b") == nil)
        #expect(adapter.rooms["blue"] == ["a"])
    }

    @Test func leavingARoomNotJoinedChangesNothing() {
        let adapter = InMemoryAdapter(namespace: io.of("/rooms-\(#line)"))
        adapter.addAll("a", rooms: ["a"])
        adapter.del("a", room: "nowhere")
        adapter.delAll("unknown")
        #expect(adapter.rooms == ["a": ["a"]])
    }
}

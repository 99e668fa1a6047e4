import Testing

@testable import SocketIOServer

/// Room bookkeeping and target selection of the default adapter (no sockets needed: ids only).
@Suite struct InMemoryAdapterTests {
    let io = SocketIO()

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

    @Test func ownRoomsAreImpliedButBehaveLikeRooms() {
        let adapter = InMemoryAdapter(namespace: io.of("/rooms-\(#line)"))
        adapter.addAll("a", rooms: ["a"])
        adapter.addAll("b", rooms: ["b", "red"])
        adapter.addAll("c", rooms: ["c", "red", "a"])  // a room named after another socket
        #expect(adapter.rooms == ["a": ["a", "c"], "b": ["b"], "c": ["c"], "red": ["b", "c"]])
        #expect(Set(adapter.targetIDs(BroadcastOptions(rooms: ["a"]))) == ["a", "c"])
        #expect(Set(adapter.targetIDs(BroadcastOptions())) == ["a", "b", "c"])
        #expect(Set(adapter.targetIDs(BroadcastOptions(except: ["b"]))) == ["a", "c"], "socket.broadcast from b")
        #expect(Set(adapter.targetIDs(BroadcastOptions(rooms: ["red", "a"], except: ["c"]))) == ["a", "b"])
        #expect(adapter.targetIDs(BroadcastOptions(rooms: ["red", "a", "b"])).count == 3, "each socket once")
        // Leaving one's own room (allowed, as in Node.js).
        adapter.del("a", room: "a")
        #expect(adapter.socketRooms("a") == [])
        #expect(adapter.targetIDs(BroadcastOptions(rooms: ["a"])) == ["c"])
        #expect(Set(adapter.targetIDs(BroadcastOptions())) == ["a", "b", "c"], "still in the namespace")
        adapter.delAll("c")
        #expect(adapter.rooms == ["b": ["b"], "red": ["b"]])
        #expect(adapter.targetIDs(BroadcastOptions(rooms: ["a"])).isEmpty)
    }
}

import NIOConcurrencyHelpers
import NIOCore
import SocketIOServer
import Testing

import SocketIOClient

/// `typed-echo` of python-socketio's `echo` handler and of our test server: acknowledged with its arguments.
private struct Echo: TypedEvent, Equatable {
    static let name = "echo"
    typealias Acknowledgement = Echo
    var text: String
    var n: Int
}

/// What the servers' `server-ack` emits to the client: answered with a `TypedEcho`.
private struct Ask: TypedEvent {
    static let name = "ask"
    typealias Acknowledgement = TypedEcho
    var text: String
    var n: Int
}

private struct PlaceBid: TypedEvent {
    static let name = "bid"
    typealias Acknowledgement = BidResult
    var item: String
    var amount: Int
}

private struct BidResult: Codable, Sendable, Equatable {
    var accepted: Bool
    var reason: String?
}

private struct BidPlaced: TypedEvent {
    static let name = "bid-placed"
    var item: String
    var amount: Int
}

private struct Ping: TypedEvent {
    static let name = "ping?"
    typealias Acknowledgement = Int
    var from: String
}

/// Issue 16, point 6: typed events, one definition for both ends.
@Suite("Typed events on the server and the client", .serialized, .timeLimit(.minutes(2)))
struct TypedEventsTests {
    @Test("the client's typed emitWithAck and typed listener against real servers", arguments: Peer.allCases)
    func clientTypedEvents(peer: Peer) async throws {
        try await peer.with { url in
            let manager = try Manager(url: url, options: options(.websocket) { $0.autoConnect = false })
            let socket = manager.socket()
            socket.on(Ask.self) { ask, ack in
                try? ack?(TypedEcho(text: ask.text + "!", n: ask.n * 2))
            }
            try await within(10) { try await socket.connect() }
            #expect(try await socket.timeout(.seconds(5)).emitWithAck(Echo(text: "typed", n: 3)) == Echo(text: "typed", n: 3))
            let asked = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "ask", ["text": "q", "n": 21])
            #expect(asked.first?["args"] == [["text": "q!", "n": 42]])
            manager.close()
        }
    }

    @Test("typed events end to end: handler with a typed ack, broadcast, the server's typed emitWithAck one socket and many")
    func endToEnd() async throws {
        let io = SocketIO()
        io.on(.connection) { socket in
            socket.join("bidders")
            socket.on(PlaceBid.self) { bid, ack in
                guard bid.amount > 0 else {
                    try ack?(BidResult(accepted: false, reason: "no bid of \(bid.amount) on \(bid.item)"))
                    return
                }
                try io.emit(BidPlaced(item: bid.item, amount: bid.amount))
                try ack?(BidResult(accepted: true))
            }
            socket.on("ping-me") { (_: [JSONValue], ack: SocketAck?) async in
                do {
                    let one = try await socket.timeout(.seconds(5)).emitWithAck(Ping(from: "socket"))
                    let all = try await io.to("bidders").timeout(.seconds(5)).emitWithAck(Ping(from: "room"))
                    let raw = try await socket.timeout(.seconds(5)).emitWithAck("ping?", ["from": "raw"], as: Int.self)
                    ack?(["one": .int(one), "all": .array(all.map { .int($0) }), "raw": .int(raw)])
                } catch {
                    ack?(["error": "\(error)"])
                }
            }
        }
        let http = try await io.listen(host: "127.0.0.1", port: 0)
        let manager = try Manager(url: "http://127.0.0.1:\(http.port!)", options: options(.websocket) { $0.autoConnect = false })
        let socket = manager.socket()
        let placed = Collector<String>()
        socket.on(BidPlaced.self) { event, _ in placed.append("\(event.item)=\(event.amount)") }
        socket.on(Ping.self) { ping, ack in try? ack?(ping.from.count) }
        try await within(10) { try await socket.connect() }

        #expect(try await socket.timeout(.seconds(5)).emitWithAck(PlaceBid(item: "lamp", amount: 20)) == BidResult(accepted: true))
        #expect(try await placed.wait(count: 1) == ["lamp=20"])
        #expect(try await socket.timeout(.seconds(5)).emitWithAck(PlaceBid(item: "lamp", amount: 0)) == BidResult(accepted: false, reason: "no bid of 0 on lamp"))
        let pinged = try await socket.timeout(.seconds(5)).emitWithAck("ping-me")
        #expect(pinged == [["one": 6, "all": [4], "raw": 3]])
        manager.close()
        try await io.close()
    }

    @Test("JSONValue takes string interpolation")
    func interpolation() {
        let id = 42
        let value: JSONValue = ["error": "no auction \(id)", "list": ["item \(id + 1)"]]
        #expect(value == ["error": .string("no auction 42"), "list": [.string("item 43")]])
    }
}

private struct Profile: Codable, Sendable, Equatable {
    var name: String
    var level: Int
}

private enum Bidder: SocketDataKey {
    typealias Value = Profile
    static let name = "bidder"
}

private enum Credits: SocketDataKey {
    typealias Value = Int
    static let name = "credits"
}

@Suite("Typed socket data", .serialized, .timeLimit(.minutes(2)))
struct TypedSocketDataTests {
    @Test("typed entries of socket.data, seen through fetchSockets; the whole of it as one Codable value")
    func typedData() async throws {
        let io = SocketIO()
        io.on(.connection) { socket in
            try? socket.setData(Bidder.self, Profile(name: "ada", level: 2))
            try? socket.setData(Credits.self, 5)
            socket.on("check") { (_: [JSONValue], ack: SocketAck?) async in
                let remote = try? await io.fetchSockets().first
                let entries: JSONValue = [
                    "bidder": .string(socket[data: Bidder.self]?.name ?? "none"),
                    "credits": .int(socket[data: Credits.self] ?? -1),
                    "remote": .string(remote?[data: Bidder.self]?.name ?? "none"),
                    "data": socket.data,
                ]
                try? socket.setData(Credits.self, nil)
                let afterRemoval = socket.data
                try? socket.setData(Profile(name: "whole", level: 9))
                let whole = (try? socket.data(as: Profile.self))?.name ?? "none"
                ack?(["entries": entries, "afterRemoval": afterRemoval, "whole": .string(whole), "missing": .bool(socket[data: Bidder.self] == nil)])
            }
        }
        let http = try await io.listen(host: "127.0.0.1", port: 0)
        let manager = try Manager(url: "http://127.0.0.1:\(http.port!)", options: options(.websocket) { $0.autoConnect = false })
        let socket = manager.socket()
        try await within(10) { try await socket.connect() }
        let answer = try await socket.timeout(.seconds(5)).emitWithAck("check")
        #expect(answer.first?["entries"] == [
            "bidder": "ada", "credits": 5, "remote": "ada",
            "data": ["bidder": ["name": "ada", "level": 2], "credits": 5],
        ])
        #expect(answer.first?["afterRemoval"] == ["bidder": ["name": "ada", "level": 2]])
        #expect(answer.first?["whole"] == "whole")
        #expect(answer.first?["missing"] == true)  // the whole value replaced the entries
        manager.close()
        try await io.close()
    }
}

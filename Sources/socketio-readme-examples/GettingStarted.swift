// The "Getting started" section of README.md (compiled by CI, see Examples.swift): one file that imports the
// server and the client together, as a test or a tool that runs both would.
import Logging
import ServiceLifecycle
import SocketIOClient
import SocketIOServer

// BEGIN getting-started-events
/// A client bids; the server answers with a `BidResult`.
struct PlaceBid: TypedEvent {
    static let name = "bid"
    typealias Acknowledgement = BidResult
    var item: String
    var amount: Int
}

struct BidResult: Codable, Sendable {
    var accepted: Bool
    var reason: String?
}

/// The server tells everyone about an accepted bid.
struct BidPlaced: TypedEvent {
    static let name = "bid-placed"
    var item: String
    var amount: Int
}
// END getting-started-events

enum GettingStarted {
    static func server() async throws {
        // BEGIN getting-started-server
        let io = SocketIO()
        io.on(.connection) { socket in
            socket.on(PlaceBid.self) { bid, ack in
                guard bid.amount > 0 else {
                    try ack?(BidResult(accepted: false, reason: "no bid of \(bid.amount)"))
                    return
                }
                try io.emit(BidPlaced(item: bid.item, amount: bid.amount))
                try ack?(BidResult(accepted: true))
            }
        }
        // Not listening yet: the service group's run binds it. SIGTERM or SIGINT: stop accepting, close
        // every client properly, wait for the connections to end, then run returns.
        let server = io.makeHTTPServer(host: "127.0.0.1", port: 3000)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "auction")
            )
        )
        try await group.run()
        // END getting-started-server
    }

    static func client() async throws {
        // BEGIN getting-started-client
        let manager = try Manager(url: "http://127.0.0.1:3000")
        let socket = manager.socket()
        socket.on(BidPlaced.self) { placed, _ in
            print("\(placed.item) now at \(placed.amount)")
        }
        try await socket.connect()  // returns once connected; throws the server's connect_error
        let result = try await socket.timeout(.seconds(5)).emitWithAck(PlaceBid(item: "lamp", amount: 20))
        print(result.accepted ? "bid accepted" : "refused: \(result.reason ?? "")")
        // END getting-started-client
    }
}

// BEGIN getting-started-both
/// With both modules imported, a type both have is named with its module.
func describe(_ server: SocketIOServer.Socket, _ client: SocketIOClient.Socket) -> String {
    "server side \(server.id), client side \(client.id ?? "not connected")"
}
// END getting-started-both

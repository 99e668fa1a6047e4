/// An event with a fixed name and `Codable` payload, and the type of its acknowledgement: one definition, used
/// by the server and the client alike, so that both ends type-check.
///
/// ```swift
/// struct PlaceBid: TypedEvent {
///     static let name = "bid"
///     typealias Acknowledgement = BidResult
///     var item: String
///     var amount: Int
/// }
/// // server:  socket.on(PlaceBid.self) { bid, ack in try ack?(BidResult(accepted: true)) }
/// // client:  let result = try await socket.emitWithAck(PlaceBid(item: "lamp", amount: 20))
/// ```
///
/// On the wire it is an ordinary event: the name, then the payload as its one argument; the acknowledgement
/// carries one argument. Peers that know nothing of Swift (Node.js, python-socketio) see plain Socket.IO.
public protocol TypedEvent: Codable, Sendable {
    /// What an acknowledgement of this event carries; ``NoAcknowledgement`` (the default) for events that are
    /// not acknowledged with a value.
    associatedtype Acknowledgement: Codable & Sendable = NoAcknowledgement
    /// The event's name on the wire.
    static var name: String { get }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

/// The ``TypedEvent/Acknowledgement`` of events acknowledged without a value (or not at all); encodes as
/// `null`, decodes from anything.
public struct NoAcknowledgement: Codable, Sendable, Hashable {
    /// The empty acknowledgement.
    public init() {}

    /// Decodes from any value: the answer is not looked at.
    public init(from decoder: any Decoder) throws {}

    /// Encodes `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}

/// The acknowledgement callback of a ``TypedEvent``, typed by what it carries: call it once with the answer.
public struct TypedAck<Value: Encodable & Sendable>: Sendable {
    private let encoder: JSONEncoder
    private let sendArguments: @Sendable ([JSONValue]) -> Void

    /// An acknowledgement that sends its encoded value with `send` (the server's or the client's ack).
    public init(encoder: JSONEncoder, send: @escaping @Sendable ([JSONValue]) -> Void) {
        self.encoder = encoder
        self.sendArguments = send
    }

    /// Sends the acknowledgement with `value` as its one argument; later calls do nothing.
    public func callAsFunction(_ value: Value) throws {
        self.sendArguments([try JSONValue(encoding: value, using: self.encoder)])
    }

    /// Sends the acknowledgement with raw arguments (the decode-error reply, say); later calls do nothing.
    public func send(_ arguments: [JSONValue]) {
        self.sendArguments(arguments)
    }
}

extension TypedAck where Value == NoAcknowledgement {
    /// Sends an acknowledgement without arguments.
    public func callAsFunction() {
        self.sendArguments([])
    }
}

/// A typed entry of `socket.data`: its key in the data object and the type of its value.
///
/// ```swift
/// enum Bidder: SocketDataKey {
///     typealias Value = BidderProfile
///     static let name = "bidder"
/// }
/// try socket.setData(Bidder.self, profile)       // socket.data == {"bidder": {...}}
/// let profile = socket[data: Bidder.self]         // BidderProfile?
/// ```
///
/// `socket.data` stays one JSON value, so typed entries travel with it: `fetchSockets()` on any node
/// (`RemoteSocket[data:]`), connection state recovery, the Admin UI.
public protocol SocketDataKey {
    /// The entry's type.
    associatedtype Value: Codable & Sendable
    /// The entry's key in the data object.
    static var name: String { get }
}

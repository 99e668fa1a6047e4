#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

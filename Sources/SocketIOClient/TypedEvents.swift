import SocketIOCore

// Typed events (`TypedEvent`) and typed acknowledgements on the client: the same definitions as the server's.

extension Socket {
    /// Calls `handler` with every typed event `E` (payload decoded with the options' `jsonDecoder`) and an
    /// acknowledgement typed by `E.Acknowledgement` when the server asked for one. An event that does not
    /// decode is handled as by ``on(_:as:_:)-(_,_,(T)->Void)``: reported and answered with the decode-error
    /// reply, never given to `handler`.
    @discardableResult
    public func on<E: TypedEvent>(_ event: E.Type, _ handler: @escaping @Sendable (E, TypedAck<E.Acknowledgement>?) -> Void) -> ListenerToken {
        let encoder = self.manager.options.jsonEncoder
        return self.on(E.name, as: E.self) { (value: E, ack: ClientAck?) in
            handler(value, ack.map { ack in TypedAck(encoder: encoder) { ack.send($0) } })
        }
    }

    /// Emits the typed event `event`.
    public func emit<E: TypedEvent>(_ event: E) throws {
        try self.emit(E.name, encoding: event)
    }

    /// Emits the typed event `event` and waits for its acknowledgement, decoded as `E.Acknowledgement`
    /// (failing after `ackTimeout`, if set); see ``SocketEmitter/emitWithAck(_:encoding:as:)`` for the errors.
    public func emitWithAck<E: TypedEvent>(_ event: E) async throws -> E.Acknowledgement {
        try await SocketEmitter(socket: self).emitWithAck(event)
    }
}

extension SocketEmitter {
    /// Emits the typed event `event`.
    public func emit<E: TypedEvent>(_ event: E) throws {
        try self.emit(E.name, encoding: event)
    }

    /// Emits the typed event `event` and waits for its acknowledgement, decoded as `E.Acknowledgement`.
    public func emitWithAck<E: TypedEvent>(_ event: E) async throws -> E.Acknowledgement {
        try await self.emitWithAck(E.name, encoding: event, as: E.Acknowledgement.self)
    }
}

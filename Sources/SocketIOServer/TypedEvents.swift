import SocketIOCore

// Typed events (`TypedEvent`) and typed acknowledgements on the server: the same definitions as the client's.

extension Socket {
    /// Handles the typed event `E`: its payload decoded (with the server's `configuration.jsonDecoder`), and
    /// an acknowledgement typed by `E.Acknowledgement` when the client asked for one. A payload that does not
    /// decode is handled as by ``on(_:as:_:)``: answered with the decode-error reply, never given to `handler`.
    public func on<E: TypedEvent>(_ event: E.Type, _ handler: @escaping @Sendable (E, TypedAck<E.Acknowledgement>?) async throws -> Void) {
        let encoder = self.namespace.server.configuration.jsonEncoder
        self.on(E.name, as: E.self) { value, ack in
            try await handler(value, ack.map { ack in TypedAck(encoder: encoder) { ack.send($0) } })
        }
    }

    /// Emits the typed event `event` to this client.
    public func emit<E: TypedEvent>(_ event: E) throws {
        try self.emit(E.name, encoding: event)
    }

    /// Emits the typed event `event` and waits for its typed acknowledgement (forever, unless
    /// `timeout(_:)` is used); see ``SocketEmitter/emitWithAck(_:)``.
    public func emitWithAck<E: TypedEvent>(_ event: E) async throws -> E.Acknowledgement {
        try await SocketEmitter(socket: self).emitWithAck(event)
    }

    /// Emits `event` and decodes the first argument of the client's acknowledgement as `T`.
    public func emitWithAck<T: Decodable & Sendable>(_ event: String, _ arguments: JSONValue..., as type: T.Type) async throws -> T {
        try await SocketEmitter(socket: self).emitWithAck(event, arguments: arguments, as: type)
    }
}

extension SocketEmitter {
    /// Emits the typed event `event`.
    public func emit<E: TypedEvent>(_ event: E) throws {
        try self.emit(E.name, encoding: event)
    }

    /// Emits `event` with `Encodable` values, one argument each (`emit("move", encoding: x, y)`) (encoded with the server's `configuration.jsonEncoder`).
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws {
        self.emit(event, arguments: try JSONValue.encodingEach(repeat each values, using: self.socket.namespace.server.configuration.jsonEncoder))
    }

    /// Emits the typed event `event` and waits for its acknowledgement, decoded as `E.Acknowledgement`.
    /// Throws `SocketIOError.ackTimeout` past the timeout, `SocketIOError.disconnected` if the socket goes
    /// away first, and an `EventDecodingError` if the answer does not decode.
    public func emitWithAck<E: TypedEvent>(_ event: E) async throws -> E.Acknowledgement {
        let argument = try JSONValue(encoding: event, using: self.socket.namespace.server.configuration.jsonEncoder)
        return try await self.emitWithAck(E.name, arguments: [argument], as: E.Acknowledgement.self)
    }

    /// Emits `event` and decodes the first argument of the acknowledgement as `T` (with the server's
    /// `configuration.jsonDecoder`); throws an `EventDecodingError` if it does not decode.
    public func emitWithAck<T: Decodable & Sendable>(_ event: String, _ arguments: JSONValue..., as type: T.Type) async throws -> T {
        try await self.emitWithAck(event, arguments: arguments, as: type)
    }

    /// Emits `event` and decodes the first argument of the acknowledgement as `T`.
    public func emitWithAck<T: Decodable & Sendable>(_ event: String, arguments: [JSONValue], as type: T.Type) async throws -> T {
        let answer = try await self.emitWithAck(event, arguments: arguments)
        return try EventDecodingError.decode(T.self, from: answer, event: event, using: self.socket.namespace.server.configuration.jsonDecoder).get()
    }
}

extension BroadcastOperator {
    /// Emits the typed event `event` to the selected sockets.
    public func emit<E: TypedEvent>(_ event: E) throws {
        try self.emit(E.name, encoding: event)
    }

    /// Emits the typed event `event` to the selected sockets and waits for every acknowledgement (set a
    /// deadline with `timeout(_:)`), each decoded as `E.Acknowledgement`.
    public func emitWithAck<E: TypedEvent>(_ event: E) async throws -> [E.Acknowledgement] {
        let configuration = self.namespace.server.configuration
        let answers = try await self.emitWithAck(E.name, arguments: [try JSONValue(encoding: event, using: configuration.jsonEncoder)])
        return try answers.map { try EventDecodingError.decode(E.Acknowledgement.self, from: $0, event: E.name, using: configuration.jsonDecoder).get() }
    }
}

extension Namespace {
    /// Emits the typed event `event` to every socket of the namespace.
    public func emit<E: TypedEvent>(_ event: E) throws { try self.all.emit(event) }
}

extension SocketIO {
    /// Emits the typed event `event` to every socket of the main namespace.
    public func emit<E: TypedEvent>(_ event: E) throws { try self.sockets.emit(event) }
    /// Emits `event` with `Encodable` values, one argument each (`emit("move", encoding: x, y)`) to every socket of the main namespace.
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws { try self.sockets.emit(event, encoding: repeat each values) }
}

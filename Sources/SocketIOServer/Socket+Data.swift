import SocketIOCore

// Typed `socket.data`: one `Codable` value for the whole of it, or typed entries (`SocketDataKey`).

extension Socket {
    /// `data` decoded as `T` (with the server's `configuration.jsonDecoder`).
    public func data<T: Decodable>(as type: T.Type) throws -> T {
        try self.data.decode(T.self, using: self.namespace.server.configuration.jsonDecoder)
    }

    /// Sets `data` to `value`, encoded with the server's `configuration.jsonEncoder`.
    public func setData(_ value: some Encodable) throws {
        self.data = try JSONValue(encoding: value, using: self.namespace.server.configuration.jsonEncoder)
    }

    /// The entry `key` of `data`, decoded; nil when `data` has no such entry or it does not decode.
    public subscript<Key: SocketDataKey>(data key: Key.Type) -> Key.Value? {
        self.data[Key.name].flatMap { try? $0.decode(Key.Value.self, using: self.namespace.server.configuration.jsonDecoder) }
    }

    /// Sets the entry `key` of `data` to `value` (removes it when nil); `data` becomes an object if it was
    /// not one. The other entries are kept, even when another thread sets one at the same time.
    public func setData<Key: SocketDataKey>(_ key: Key.Type, _ value: Key.Value?) throws {
        let encoded = try value.map { try JSONValue(encoding: $0, using: self.namespace.server.configuration.jsonEncoder) }
        self.modifyData { data in
            var object = data.objectValue ?? [:]
            object[Key.name] = encoded
            data = .object(object)
        }
    }
}

extension RemoteSocket {
    /// `data` (as fetched) decoded as `T`.
    public func data<T: Decodable>(as type: T.Type) throws -> T {
        try self.data.decode(T.self, using: self.namespace.server.configuration.jsonDecoder)
    }

    /// The entry `key` of `data` (as fetched), decoded; nil when absent or not decodable.
    public subscript<Key: SocketDataKey>(data key: Key.Type) -> Key.Value? {
        self.data[Key.name].flatMap { try? $0.decode(Key.Value.self, using: self.namespace.server.configuration.jsonDecoder) }
    }
}

import SocketIOAdapter

extension Namespace: AdapterNamespace {
    public var connectionStateRecovery: ConnectionStateRecovery? { self.server.configuration.connectionStateRecovery }

    public func hasLocalSocket(withID id: String) -> Bool { self.socket(withID: id) != nil }

    public func makeLocalAdapter(keepsRecoveryLog: Bool) -> any LocalAdapter {
        InMemoryAdapter(namespace: self, keepsRecoveryLog: keepsRecoveryLog)
    }
}

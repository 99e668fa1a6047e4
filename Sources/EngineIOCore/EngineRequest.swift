/// What an HTTP request to the Engine.IO path asks for, once its method and query have been checked.
public enum EngineRequest: Hashable, Sendable {
    /// A new session over HTTP long-polling (a GET without `sid`).
    case pollingHandshake
    /// A new session over WebSocket (an upgrade request without `sid`).
    case webSocketHandshake
    /// A long-polling GET for the session `sid`.
    case poll(sid: String)
    /// A long-polling POST carrying packets for the session `sid`.
    case post(sid: String)
    /// A WebSocket upgrade of the polling session `sid`.
    case upgrade(sid: String)

    /// Checks a request the way Node.js's engine.io does, in the same order: the transport, then the
    /// method of a handshake, then the protocol version. Whether a given `sid` exists is the server's
    /// business.
    ///
    /// - Parameters:
    ///   - method: the HTTP method (`GET`, `POST`, ...); CORS preflights (`OPTIONS`) are answered before this.
    ///   - query: the decoded query parameters.
    ///   - isWebSocketUpgrade: whether the request asks to upgrade to WebSocket.
    ///   - transports: the transports the server enables.
    public static func classify(
        method: String,
        query: [String: String],
        isWebSocketUpgrade: Bool,
        transports: Set<EngineTransport>
    ) -> Result<EngineRequest, EngineErrorCode> {
        guard let transportName = query["transport"], let transport = EngineTransport(rawValue: transportName),
            transports.contains(transport)
        else {
            return .failure(.unknownTransport)
        }
        // An upgrade must ask for websocket, and websocket can only be reached by an upgrade.
        guard isWebSocketUpgrade == (transport == .websocket) else { return .failure(.badRequest) }
        if let sid = query["sid"] {
            guard !sid.isEmpty else { return .failure(.unknownSessionID) }
            if isWebSocketUpgrade { return method == "GET" ? .success(.upgrade(sid: sid)) : .failure(.badRequest) }
            switch method {
            case "GET": return .success(.poll(sid: sid))
            case "POST": return .success(.post(sid: sid))
            default: return .failure(.badRequest)
            }
        }
        guard method == "GET" else { return .failure(.badHandshakeMethod) }
        guard query["EIO"] == "4" else { return .failure(.unsupportedProtocolVersion) }
        return .success(isWebSocketUpgrade ? .webSocketHandshake : .pollingHandshake)
    }
}

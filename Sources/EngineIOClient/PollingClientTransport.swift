import EngineIOCore
import NIOCore
import NIOHTTP1

/// HTTP long-polling: one GET at a time on one keep-alive connection, POSTs on another.
/// Confined to its event loop.
final class PollingClientTransport: ClientTransport {
    let kind = EngineTransport.polling
    private let eventLoop: EventLoop
    private let configuration: EngineClientConfiguration
    private let getConnection: HTTPClientConnection
    private let postConnection: HTTPClientConnection
    weak var owner: ClientTransportOwner?
    /// The session id, once the handshake is done.
    var sid: String?
    /// The largest POST body the server accepts.
    var maxPayload = 1_000_000

    private var pollInFlight = false
    private var postInFlight = false
    private var isClosed = false
    private var pauseCompletion: (() -> Void)?
    /// The closing POST, waiting for the POST in flight.
    private var closeAfterPost: (() -> Void)?

    init(eventLoop: EventLoop, configuration: EngineClientConfiguration, factory: ClientChannelFactory) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.getConnection = HTTPClientConnection(eventLoop: eventLoop, factory: factory)
        self.postConnection = HTTPClientConnection(eventLoop: eventLoop, factory: factory)
    }

    var isWritable: Bool { !self.postInFlight && !self.isClosed }

    /// The handshake: a GET without sid; returns the packets of the response (the first is the open packet).
    func handshake() -> EventLoopFuture<[EnginePacket]> {
        let uri = self.configuration.requestURI(transport: .polling, sid: nil)
        return self.getConnection.request(method: .GET, uri: uri, headers: self.configuration.headers(), body: nil)
            .flatMapThrowing { response in try Self.packets(of: response) }
    }

    /// Starts the GET loop.
    func startPolling() {
        self.poll()
    }

    private func poll() {
        guard !self.isClosed, !self.pollInFlight, self.pauseCompletion == nil, let sid = self.sid else { return }
        self.pollInFlight = true
        let uri = self.configuration.requestURI(transport: .polling, sid: sid)
        self.getConnection.request(method: .GET, uri: uri, headers: self.configuration.headers(), body: nil)
            .assumeIsolated()
            .whenComplete { result in
                self.pollInFlight = false
                guard !self.isClosed else { return }
                switch result {
                case .success(let response):
                    do {
                        let packets = try Self.packets(of: response)
                        self.owner?.transport(self, received: packets)
                    } catch {
                        self.owner?.transport(self, failed: error as? EngineClientError ?? .parse("\(error)"))
                        return
                    }
                    if self.pauseCompletion != nil {
                        self.checkPaused()
                    } else {
                        self.poll()
                    }
                case .failure(let error):
                    self.owner?.transport(self, failed: error as? EngineClientError ?? .connection("\(error)"))
                }
            }
    }

    func write(_ packets: [EnginePacket]) {
        guard !self.isClosed, let sid = self.sid, !packets.isEmpty else { return }
        precondition(!self.postInFlight, "one POST at a time")
        self.postInFlight = true
        let body = PollingPayload.encode(packets)
        let uri = self.configuration.requestURI(transport: .polling, sid: sid)
        self.postConnection.request(method: .POST, uri: uri, headers: self.configuration.headers(), body: body)
            .assumeIsolated()
            .whenComplete { result in
                self.postInFlight = false
                if let closing = self.closeAfterPost {
                    self.closeAfterPost = nil
                    closing()
                    return
                }
                guard !self.isClosed else { return }
                switch result {
                case .success(let response) where response.status == .ok:
                    if self.pauseCompletion != nil { self.checkPaused() }
                    self.owner?.transportDrained(self)
                case .success(let response):
                    self.owner?.transport(self, failed: Self.error(of: response))
                case .failure(let error):
                    self.owner?.transport(self, failed: error as? EngineClientError ?? .connection("\(error)"))
                }
            }
    }

    /// Stops polling once the GET in flight (answered by the server with a noop during an upgrade) and the
    /// POST in flight have completed, then calls `completion`.
    func pause(then completion: @escaping () -> Void) {
        self.pauseCompletion = completion
        self.checkPaused()
    }

    private func checkPaused() {
        guard !self.pollInFlight, !self.postInFlight, let completion = self.pauseCompletion else { return }
        self.pauseCompletion = nil
        self.isClosed = true
        completion()
    }

    /// Sends the last packets (ending with a close packet), best effort, and stops.
    ///
    /// In order, as the official client: after the POST in flight, if any (a Socket.IO DISCONNECT sent just
    /// before must reach the server before the close), and the pending GET is dropped only once the closing
    /// POST is answered: a server takes a GET whose connection goes away for a lost connection (a transport
    /// close, which connection state recovery would keep), not for the client leaving.
    func sendClose(_ packets: [EnginePacket]) {
        guard !self.isClosed, let sid = self.sid else { return self.close() }
        let uri = self.configuration.requestURI(transport: .polling, sid: sid)
        let body = PollingPayload.encode(packets)
        self.isClosed = true
        let send = {
            let closeConnections = {
                self.getConnection.close()
                self.postConnection.close()
            }
            // (a server that does not answer does not keep the connections)
            let deadline = self.eventLoop.assumeIsolated().scheduleTask(in: .seconds(5), closeConnections)
            self.postConnection.request(method: .POST, uri: uri, headers: self.configuration.headers(), body: body)
                .assumeIsolated()
                .whenComplete { _ in
                    deadline.cancel()
                    closeConnections()
                }
        }
        if self.postInFlight {
            self.closeAfterPost = send
        } else {
            send()
        }
    }

    func close() {
        self.isClosed = true
        self.getConnection.close()
        self.postConnection.close()
    }

    static func packets(of response: HTTPClientResponse) throws -> [EnginePacket] {
        guard response.status == .ok else { throw error(of: response) }
        do {
            return try PollingPayload.decode(response.body)
        } catch {
            throw EngineClientError.parse("\(error)")
        }
    }

    static func error(of response: HTTPClientResponse) -> EngineClientError {
        if let code = EngineErrorCode(jsonBody: response.body) { return .server(code) }
        return .http(status: Int(response.status.code), body: String(buffer: response.body))
    }
}

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
    private let factory: ClientChannelFactory
    weak var owner: ClientTransportOwner?
    /// The session id, once the handshake is done.
    var sid: String?
    /// The largest POST body the server accepts.
    var maxPayload = 1_000_000

    private var pollInFlight = false
    private var postInFlight = false
    private var isClosed = false
    private var pauseCompletion: (() -> Void)?

    init(eventLoop: EventLoop, configuration: EngineClientConfiguration, factory: ClientChannelFactory) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.getConnection = HTTPClientConnection(eventLoop: eventLoop, factory: factory)
        self.postConnection = HTTPClientConnection(eventLoop: eventLoop, factory: factory)
        self.factory = factory
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
    func sendClose(_ packets: [EnginePacket]) {
        guard !self.isClosed, let sid = self.sid else { return self.close() }
        let uri = self.configuration.requestURI(transport: .polling, sid: sid)
        let body = PollingPayload.encode(packets)
        // On a connection of its own when a POST is in flight (one request at a time per connection).
        let connection = self.postInFlight ? HTTPClientConnection(eventLoop: self.eventLoop, factory: self.factory) : self.postConnection
        self.isClosed = true
        self.getConnection.close()
        connection.request(method: .POST, uri: uri, headers: self.configuration.headers(), body: body)
            .assumeIsolated()
            .whenComplete { _ in
                connection.close()
                self.postConnection.close()
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

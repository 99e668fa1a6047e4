import EngineIOCore
import EngineIOServer
import Foundation
import Logging
import NIOCore
import SocketIOCore

/// The Socket.IO side of one Engine.IO session (Socket.IO's `Client`): decodes packets, connects the
/// client to namespaces and routes each packet to the socket of its namespace.
///
/// Its mutable state is confined to the session's event loop: the engine calls the delegate methods
/// there, and every other entry point hops there first.
final class ClientConnection: EngineSocketDelegate, @unchecked Sendable {
    let engine: EngineSocket
    private unowned let server: SocketIO
    private var decoder: SocketPacketDecoder
    private var sockets = SocketsByNamespace()
    private var connecting: Set<String> = []
    private var connectTimeout: Scheduled<Void>?
    private var closed = false
    /// Flow control, as a publisher: how many congested recipients hold this connection's reading back.
    private var readPauses = 0
    /// Flow control, as a recipient: the publishers waiting for this client to drain.
    private var waitingPublishers: [ClientConnection] = []
    /// Flow control, as a recipient: the check that cuts this client if it takes nothing for stallTimeout.
    private var stallCheck: Scheduled<Void>?
    /// The bytes waiting for this client at the last stall check.
    private var bytesAtLastCheck = 0
    /// The server's logger with the session id (made when logging: no copy kept per connection).
    private var logger: Logger {
        var logger = self.server.logger
        logger[metadataKey: "eio.sid"] = "\(self.engine.id)"
        return logger
    }

    var eventLoop: EventLoop { self.engine.eventLoop }

    init(engine: EngineSocket, server: SocketIO) {
        self.engine = engine
        self.server = server
        self.decoder = SocketPacketDecoder(configuration: server.configuration.decoder)
        // Captured strongly: a weak reference would give every connection a side table, and make each of
        // its retains and releases (several per event) take the runtime's slow path. The task is cancelled
        // when a namespace is joined or the session closes, and lets go of the connection once it has run.
        self.connectTimeout = engine.eventLoop.scheduleTask(in: TimeAmount(server.configuration.connectTimeout)) { [self] in
            guard self.sockets.isEmpty, self.connecting.isEmpty else { return }
            self.logger.debug("socket.io connection closed: no namespace joined within connectTimeout")
            self.engine.close()
        }
    }

    /// Sends Engine.IO frames (a packet and its attachments), from any thread.
    func send(_ frames: [EngineFrame]) {
        self.engine.send(frames: frames)
    }

    /// Encodes `packet` and sends it, from any thread (a single-frame packet without an array).
    func send(_ packet: SocketPacket, compress: Bool = true) {
        let (text, attachments) = EncodedMessages.encode(packet, compress: compress)
        if attachments.isEmpty {
            self.engine.send(frame: text)
        } else {
            self.engine.send(frames: [text] + attachments)
        }
    }

    // MARK: EngineSocketDelegate

    func engineSocket(_ socket: EngineSocket, didReceive message: EngineMessage) {
        var decoded: SocketPacket?
        do {
            switch message {
            case .text(let text): decoded = try self.decoder.decode(text: text)
            case .binary(let bytes): decoded = try self.decoder.decode(binary: bytes)
            }
        } catch {
            self.logger.info("socket.io connection closed: malformed packet", metadata: ["sio.error": "\(error)"])
            self.close(reason: .parseError)
            return
        }
        // taken out of the optional, so that the socket receives the only reference to the payload
        guard let packet = decoded.take() else { return }
        if packet.type == .connectError {
            // Only servers send CONNECT_ERROR: like Node.js, the connection is closed.
            self.logger.info("socket.io connection closed: CONNECT_ERROR sent by the client")
            self.close(reason: .forcedServerClose)
        } else if packet.type == .connect {
            self.connect(namespace: packet.namespace, auth: packet.data)
        } else if let target = self.sockets[packet.namespace] {
            target.receive(consume packet)
        } else if self.connecting.contains(packet.namespace) {
            self.logger.debug("packet for a namespace still connecting ignored", metadata: ["sio.nsp": "\(packet.namespace)"])
        } else {
            self.logger.info("socket.io connection closed: packet for a namespace not joined", metadata: ["sio.nsp": "\(packet.namespace)"])
            self.close(reason: .parseError)
        }
    }

    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) {
        self.closed = true
        self.connectTimeout?.cancel()
        self.releasePublishers()
        let sockets = self.sockets.values
        self.sockets.removeAll()
        for socket in sockets { socket.closed(reason: DisconnectReason(engine: reason)) }
    }

    func engineSocketDidDrain(_ socket: EngineSocket) {
        guard !self.waitingPublishers.isEmpty, let flow = self.server.configuration.flowControl else { return }
        if socket.bufferedBytes <= flow.highWaterMark / 2 { self.releasePublishers() }
    }

    func engineSocketDidUpgrade(_ socket: EngineSocket) {
        for socket in self.sockets.values { socket.transportUpgraded() }
    }

    // MARK: Flow control

    /// Whether this connection's events are tracked as a publisher's (flow control on).
    var flowControlled: Bool { self.server.configuration.flowControl != nil }

    /// After a packet from `publisher`'s handler was queued for this client (on this loop): if too much
    /// waits for this client, `publisher` is read no further until this client drains.
    func checkCongestion(publisher: ClientConnection) {
        // Cheap test first: a writable WebSocket holds less than the channel's own (small) high-water mark.
        guard !self.engine.isWritable, let flow = self.server.configuration.flowControl, !self.closed else { return }
        let buffered = self.engine.bufferedBytes
        guard buffered > flow.highWaterMark else { return }
        if !self.waitingPublishers.contains(where: { $0 === publisher }) {
            self.waitingPublishers.append(publisher)
            SocketIOMetrics.publishersPaused.increment()
            publisher.eventLoop.executeOrRun { publisher.pauseReading() }
        }
        if self.stallCheck == nil {
            self.bytesAtLastCheck = buffered
            self.scheduleStallCheck(TimeAmount(flow.stallTimeout))
        }
    }

    private func scheduleStallCheck(_ timeout: TimeAmount) {
        self.stallCheck = self.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self else { return }
            self.stallCheck = nil
            guard !self.waitingPublishers.isEmpty, !self.closed else { return }
            let buffered = self.engine.bufferedBytes
            if buffered < self.bytesAtLastCheck {
                // Slow, but moving: publishers keep waiting for it.
                self.bytesAtLastCheck = buffered
                self.scheduleStallCheck(timeout)
                return
            }
            SocketIOMetrics.stalledRecipients.increment()
            self.logger.info(
                "socket.io connection closed: client too slow (took nothing within flow control's stallTimeout while publishers waited)",
                metadata: ["eio.buffered": "\(buffered)", "sio.waiting": "\(self.waitingPublishers.count)"]
            )
            self.engine.close(reason: .sendBufferFull)
        }
    }

    /// This client drained (or is gone): the publishers that waited for it may go on.
    private func releasePublishers() {
        self.stallCheck?.cancel()
        self.stallCheck = nil
        let publishers = self.waitingPublishers
        self.waitingPublishers = []
        for publisher in publishers { publisher.eventLoop.executeOrRun { publisher.resumeReading() } }
    }

    private func pauseReading() {
        self.readPauses += 1
        if self.readPauses == 1 { self.engine.setReadingPaused(true) }
    }

    private func resumeReading() {
        guard self.readPauses > 0 else { return }
        self.readPauses -= 1
        if self.readPauses == 0 { self.engine.setReadingPaused(false) }
    }

    // MARK: Namespaces

    private func connect(namespace name: String, auth: JSONValue?) {
        guard self.sockets[name] == nil, !self.connecting.contains(name) else {
            // The official client sends CONNECT twice when `socket.connect()` is called on a socket that
            // `manager.socket("/ns")` already connects. Node.js then makes a second socket and answers
            // twice; here the socket of the first CONNECT serves both: the second is ignored, and the client,
            // which waits for one answer, gets the first's (sent already, or when the middlewares are done).
            self.logger.debug("second CONNECT for a namespace joined or joining ignored", metadata: ["sio.nsp": "\(name)"])
            return
        }
        let authValue = auth ?? .object(JSONObject())
        guard let namespace = self.server.namespace(forConnecting: name, auth: authValue) else {
            self.logger.debug("CONNECT refused: invalid namespace", metadata: ["sio.nsp": "\(name)"])
            self.send(.connectError(namespace: name, message: "Invalid namespace"))
            return
        }
        self.connectTimeout?.cancel()
        self.connectTimeout = nil
        guard let recovery = self.server.configuration.connectionStateRecovery else {
            self.admit(self.makeSocket(namespace, auth: authValue, restored: nil), restored: nil)
            return
        }
        guard case .object(let object) = authValue, case .string(let pid)? = object["pid"], case .string(let offset)? = object["offset"] else {
            self.admit(self.makeSocket(namespace, auth: authValue, restored: nil), restored: nil)
            return
        }
        // A client coming back with `{pid, offset}`: the adapter may have its session.
        self.connecting.insert(name)
        let loop = self.eventLoop
        let logger = self.logger
        Task {
            var restored: RestoredSession?
            do {
                restored = try await namespace.adapter.restoreSession(pid: pid, offset: offset)
            } catch {
                logger.info("connection state recovery failed", metadata: ["sio.nsp": "\(name)", "error": "\(error)"])
            }
            let session = restored
            loop.execute {
                self.connecting.remove(name)
                guard !self.closed else {
                    // Gone again before it could be given back: keep it for the next attempt.
                    if let session { namespace.adapter.persistSession(session.session) }
                    return
                }
                let socket = self.makeSocket(namespace, auth: authValue, restored: session)
                if session != nil {
                    SocketIOMetrics.recoveredSockets.increment()
                    self.logger.debug("connection state recovered", metadata: ["sio.nsp": "\(name)", "sio.sid": "\(socket.id)"])
                }
                if session != nil && recovery.skipMiddlewares {
                    self.finishConnect(socket, restored: session)
                } else {
                    self.admit(socket, restored: session)
                }
            }
        }
    }

    private func makeSocket(_ namespace: Namespace, auth: JSONValue, restored: RestoredSession?) -> Socket {
        Socket(
            id: SessionID.make(),
            namespace: namespace,
            connection: self,
            auth: auth,
            issued: Int64(Date().timeIntervalSince1970 * 1000),
            pid: self.server.configuration.connectionStateRecovery == nil ? nil : SessionID.make(),
            restored: restored?.session
        )
    }

    /// Runs the namespace's middlewares, then connects the socket or sends the refusal.
    private func admit(_ socket: Socket, restored: RestoredSession?) {
        let name = socket.namespace.name
        let middlewares = socket.namespace.allMiddlewares
        if middlewares.isEmpty {
            self.finishConnect(socket, restored: restored)
            return
        }
        self.connecting.insert(name)
        let loop = self.eventLoop
        Task {
            var refusal: ConnectionRefused?
            for middleware in middlewares {
                do {
                    try await middleware(socket)
                } catch let refused as ConnectionRefused {
                    refusal = refused
                    break
                } catch {
                    refusal = ConnectionRefused("\(error)")
                    break
                }
            }
            let outcome = refusal
            loop.execute {
                self.connecting.remove(name)
                guard !self.closed else { return }
                if let refusal = outcome {
                    SocketIOMetrics.rejectedConnections.increment()
                    self.logger.debug("CONNECT refused by middleware", metadata: ["sio.nsp": "\(name)", "sio.message": "\(refusal.message)"])
                    self.send(.connectError(namespace: name, message: refusal.message, data: refusal.data))
                } else {
                    self.finishConnect(socket, restored: restored)
                }
            }
        }
    }

    /// Connects the socket: the CONNECT answer, then (recovered) the packets it missed, then its handlers.
    private func finishConnect(_ socket: Socket, restored: RestoredSession?) {
        self.sockets[socket.namespace.name] = socket
        socket.namespace.add(socket)
        socket.connect(rooms: restored?.session.rooms ?? [])
        for missed in restored?.missedPackets ?? [] { self.send(missed.frames) }
        for handler in socket.namespace.firstConnectionHandlers { handler(socket) }
        socket.runConnectionHandlers(socket.namespace.allConnectionHandlers)
    }

    /// Forgets a socket that disconnected.
    func remove(_ socket: Socket) {
        self.eventLoop.preconditionInEventLoop()
        if self.sockets[socket.namespace.name] === socket { self.sockets[socket.namespace.name] = nil }
    }

    /// `socket.disconnect(close: true)`: every namespace is told, then the connection closes.
    func disconnectAll() {
        self.eventLoop.preconditionInEventLoop()
        for socket in self.sockets.values {
            socket.sendPacket(.disconnect(namespace: socket.namespace.name))
            socket.closed(reason: .serverNamespaceDisconnect)
        }
        self.engine.close()
    }

    /// Closes the connection, telling every socket why.
    func close(reason: DisconnectReason) {
        self.eventLoop.preconditionInEventLoop()
        let sockets = self.sockets.values
        self.sockets.removeAll()
        for socket in sockets { socket.closed(reason: reason) }
        self.engine.close()
    }
}

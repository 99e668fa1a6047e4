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
    private unowned let server: SocketIOServer
    private var decoder: SocketPacketDecoder
    private var sockets: [String: Socket] = [:]
    private var connecting: Set<String> = []
    private var connectTimeout: Scheduled<Void>?
    private var closed = false
    /// The server's logger with the session id (made when logging: no copy kept per connection).
    private var logger: Logger {
        var logger = self.server.logger
        logger[metadataKey: "eio.sid"] = "\(self.engine.id)"
        return logger
    }

    var eventLoop: EventLoop { self.engine.eventLoop }

    init(engine: EngineSocket, server: SocketIOServer) {
        self.engine = engine
        self.server = server
        self.decoder = SocketPacketDecoder(configuration: server.configuration.decoder)
        self.connectTimeout = engine.eventLoop.scheduleTask(in: server.configuration.connectTimeout) { [weak self] in
            guard let self, self.sockets.isEmpty, self.connecting.isEmpty else { return }
            self.logger.debug("socket.io connection closed: no namespace joined within connectTimeout")
            self.engine.close()
        }
    }

    /// Sends Engine.IO frames (a packet and its attachments), from any thread.
    func send(_ frames: [EngineFrame]) {
        self.engine.send(frames: frames)
    }

    // MARK: EngineSocketDelegate

    func engineSocket(_ socket: EngineSocket, didReceive message: EngineMessage) {
        let packet: SocketPacket?
        do {
            switch message {
            case .text(let text): packet = try self.decoder.decode(text: text)
            case .binary(let bytes): packet = try self.decoder.decode(binary: bytes)
            }
        } catch {
            self.logger.info("socket.io connection closed: malformed packet", metadata: ["sio.error": "\(error)"])
            self.close(reason: .parseError)
            return
        }
        guard let packet else { return }
        if packet.type == .connectError {
            // Only servers send CONNECT_ERROR: like Node.js, the connection is closed.
            self.logger.info("socket.io connection closed: CONNECT_ERROR sent by the client")
            self.close(reason: .forcedServerClose)
        } else if packet.type == .connect {
            self.connect(namespace: packet.namespace, auth: packet.data)
        } else if let target = self.sockets[packet.namespace] {
            target.receive(packet)
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
        let sockets = self.sockets.values
        self.sockets.removeAll()
        for socket in sockets { socket.closed(reason: DisconnectReason(engine: reason)) }
    }

    // MARK: Namespaces

    private func connect(namespace name: String, auth: JSONValue?) {
        guard self.sockets[name] == nil, !self.connecting.contains(name) else {
            // Like Node.js: a second CONNECT to a namespace is an invalid state that closes the connection.
            self.logger.info("socket.io connection closed: CONNECT for a namespace already joined", metadata: ["sio.nsp": "\(name)"])
            self.close(reason: .forcedServerClose)
            return
        }
        let authValue = auth ?? .object(JSONObject())
        guard let namespace = self.server.namespace(forConnecting: name, auth: authValue) else {
            self.logger.debug("CONNECT refused: invalid namespace", metadata: ["sio.nsp": "\(name)"])
            self.send(EncodedMessages(.connectError(namespace: name, message: "Invalid namespace")).frames)
            return
        }
        self.connectTimeout?.cancel()
        self.connectTimeout = nil
        let socket = Socket(
            id: SessionID.make(),
            namespace: namespace,
            connection: self,
            auth: authValue,
            issued: Int64(Date().timeIntervalSince1970 * 1000)
        )
        let middlewares = namespace.allMiddlewares
        if middlewares.isEmpty {
            self.finishConnect(socket)
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
                    self.send(EncodedMessages(.connectError(namespace: name, message: refusal.message, data: refusal.data)).frames)
                } else {
                    self.finishConnect(socket)
                }
            }
        }
    }

    private func finishConnect(_ socket: Socket) {
        self.sockets[socket.namespace.name] = socket
        socket.namespace.add(socket)
        socket.connect()
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

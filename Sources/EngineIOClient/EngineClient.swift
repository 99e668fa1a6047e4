import EngineIOCore
import NIOCore

/// What an ``EngineClient`` reports, on its event loop.
public enum EngineClientEvent: Sendable {
    /// The session is open.
    case open(EngineHandshake)
    /// A message arrived.
    case message(EngineMessage)
    /// The session moved to another transport (after a polling-to-WebSocket upgrade).
    case upgrade(EngineTransport)
    /// The session ended, or could not be opened (no `open` event came before).
    case close(EngineClientCloseReason)
}

/// An Engine.IO v4 client session: handshake, heartbeat, polling, WebSocket, polling-to-WebSocket upgrade with no
/// message lost or duplicated, and close.
///
/// Confined to its event loop: create it, call its methods and read its properties on `eventLoop`; its events are
/// delivered there too (`onEvent`).
public final class EngineClient {
    private enum State { case idle, opening, open, closed }

    /// The event loop everything runs on.
    public let eventLoop: EventLoop
    /// The configuration.
    public let configuration: EngineClientConfiguration
    /// Receives the session's events.
    public var onEvent: (EngineClientEvent) -> Void = { _ in }
    /// The server's handshake, once open.
    public private(set) var handshake: EngineHandshake?

    private var state = State.idle
    private var active: ClientTransport?
    private var polling: PollingClientTransport?
    private var probe: WebSocketClientTransport?
    private var upgrading = false
    private var writeBuffer: [EnginePacket] = []
    private var pingTimer: Scheduled<Void>?

    /// Creates a client; `open()` connects it.
    public init(configuration: EngineClientConfiguration, eventLoop: EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
    }

    /// The transport in use.
    public var transport: EngineTransport? { self.active?.kind }

    /// Whether the session is open.
    public var isOpen: Bool { self.state == .open }

    /// Opens the session with the first configured transport.
    public func open() {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .idle else { return }
        self.state = .opening
        let factory: ClientChannelFactory
        do {
            factory = try ClientChannelFactory(configuration: self.configuration)
        } catch {
            return self.finish(.transportError(.connection("TLS: \(error)")))
        }
        switch self.configuration.transports.first {
        case nil:
            self.finish(.transportError(.noTransport))
        case .polling:
            let polling = PollingClientTransport(eventLoop: self.eventLoop, configuration: self.configuration, factory: factory)
            polling.owner = self
            self.active = polling
            self.polling = polling
            polling.handshake().assumeIsolated().whenComplete { result in
                guard self.state == .opening else { return }
                switch result {
                case .success(let packets):
                    guard let first = packets.first else { return self.finish(.transportError(.badHandshake("empty response"))) }
                    let handshake: EngineHandshake
                    do throws(EngineClientError) {
                        handshake = try EngineHandshake(openPacket: first)
                    } catch {
                        return self.finish(.transportError(error))
                    }
                    polling.sid = handshake.sid
                    polling.maxPayload = handshake.maxPayload
                    self.didOpen(handshake)
                    self.handle(packets.dropFirst())
                    guard self.state == .open else { return }
                    polling.startPolling()
                    self.probeWebSocket(factory: factory, sid: handshake.sid)
                case .failure(let error):
                    self.finish(.transportError(error as? EngineClientError ?? .connection("\(error)")))
                }
            }
        case .websocket:
            let webSocket = WebSocketClientTransport(eventLoop: self.eventLoop, configuration: self.configuration, factory: factory)
            webSocket.owner = self
            self.active = webSocket
            webSocket.connect(sid: nil).assumeIsolated().whenFailure { error in
                guard self.state == .opening else { return }
                self.finish(.transportError(error as? EngineClientError ?? .connection("\(error)")))
            }
        }
    }

    /// Sends messages, in order, batched with anything else pending.
    public func send(_ messages: [EngineMessage]) {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open || self.state == .opening else { return }
        for message in messages { self.writeBuffer.append(EnginePacket(message: message)) }
        self.flush()
    }

    /// Sends what is pending and a close packet, then closes.
    public func close() {
        self.eventLoop.preconditionInEventLoop()
        guard self.state != .closed else { return }
        if self.state == .open {
            let packets = self.writeBuffer + [EnginePacket.close]
            self.writeBuffer.removeAll()
            if let polling = self.active as? PollingClientTransport {
                polling.sendClose(packets)
            } else if let active = self.active {
                active.write(packets)
            }
        }
        self.finish(.forcedClose)
    }

    // MARK: Internals

    private func didOpen(_ handshake: EngineHandshake) {
        self.handshake = handshake
        self.state = .open
        self.resetHeartbeat()
        self.onEvent(.open(handshake))
        self.flush()
    }

    private func handle<Packets: Sequence>(_ packets: Packets) where Packets.Element == EnginePacket {
        for packet in packets {
            guard self.state == .open || self.state == .opening else { return }
            self.handle(packet)
        }
    }

    private func handle(_ packet: EnginePacket) {
        switch packet.type {
        case .open:
            guard self.state == .opening else { return }
            do throws(EngineClientError) {
                self.didOpen(try EngineHandshake(openPacket: packet))
            } catch {
                self.finish(.transportError(error))
            }
        case .ping:
            guard self.state == .open else { return }
            self.resetHeartbeat()
            self.writeBuffer.append(EnginePacket(.pong, payload: packet.payload))
            self.flush()
        case .message:
            guard self.state == .open, let message = packet.message else { return }
            self.onEvent(.message(message))
        case .close:
            self.finish(.transportClose)
        case .pong, .upgrade, .noop:
            break
        }
    }

    private func flush() {
        guard self.state == .open, !self.upgrading, !self.writeBuffer.isEmpty, let active = self.active, active.isWritable else {
            return
        }
        if active is PollingClientTransport {
            // One POST at a time, each within the server's maxPayload.
            let limit = self.handshake?.maxPayload ?? 1_000_000
            var size = 0
            var count = 0
            for packet in self.writeBuffer {
                let length = (packet.isBinary ? Base64.encodedLength(of: packet.payload.readableBytes) : packet.payload.readableBytes) + 2
                if count > 0 && size + length > limit { break }
                size += length
                count += 1
            }
            let batch = Array(self.writeBuffer.prefix(count))
            self.writeBuffer.removeFirst(count)
            active.write(batch)
        } else {
            let batch = self.writeBuffer
            self.writeBuffer.removeAll(keepingCapacity: true)
            active.write(batch)
        }
    }

    private func resetHeartbeat() {
        self.pingTimer?.cancel()
        guard let handshake = self.handshake else { return }
        let delay = TimeAmount.milliseconds(Int64(handshake.pingInterval + handshake.pingTimeout))
        self.pingTimer = self.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            self?.finish(.pingTimeout)
        }
    }

    private func finish(_ reason: EngineClientCloseReason) {
        guard self.state != .closed else { return }
        self.state = .closed
        self.pingTimer?.cancel()
        self.pingTimer = nil
        if reason != .forcedClose { self.active?.close() } else if self.active is WebSocketClientTransport { self.active?.close() }
        self.probe?.close()
        self.probe = nil
        self.writeBuffer.removeAll()
        self.onEvent(.close(reason))
    }

    // MARK: Upgrade

    private func probeWebSocket(factory: ClientChannelFactory, sid: String) {
        guard self.configuration.upgrade, self.configuration.transports.contains(.websocket),
            self.handshake?.upgrades.contains("websocket") == true
        else { return }
        let webSocket = WebSocketClientTransport(eventLoop: self.eventLoop, configuration: self.configuration, factory: factory)
        webSocket.owner = self
        self.probe = webSocket
        webSocket.connect(sid: sid).assumeIsolated().whenComplete { result in
            guard self.probe === webSocket, self.state == .open else {
                webSocket.close()
                return
            }
            switch result {
            case .success:
                webSocket.write([EnginePacket.probe])
            case .failure:
                // Stay on polling.
                self.probe = nil
            }
        }
    }

    private func probeAnswered(by webSocket: WebSocketClientTransport) {
        guard let polling = self.polling, !self.upgrading else { return }
        self.upgrading = true
        polling.pause {
            guard self.probe === webSocket, self.state == .open else { return }
            webSocket.write([EnginePacket(.upgrade)])
            self.active = webSocket
            self.probe = nil
            self.polling = nil
            self.upgrading = false
            polling.close()
            self.onEvent(.upgrade(.websocket))
            self.flush()
        }
    }
}

extension EngineClient: ClientTransportOwner {
    func transport(_ transport: ClientTransport, received packets: [EnginePacket]) {
        if let probe = self.probe, transport === probe {
            for packet in packets where packet.type == .pong && packet.payload.readableBytesView.elementsEqual("probe".utf8) {
                self.probeAnswered(by: probe)
            }
            return
        }
        guard transport === self.active else { return }
        self.handle(packets)
    }

    func transportDrained(_ transport: ClientTransport) {
        self.flush()
    }

    func transport(_ transport: ClientTransport, failed error: EngineClientError) {
        if let probe = self.probe, transport === probe {
            self.probe = nil
            if self.upgrading {
                // The polling side is already paused: the session cannot go on.
                self.finish(.transportError(error))
            }
            return
        }
        guard transport === self.active else { return }
        if error.isParseError {
            self.finish(.parseError(error))
        } else {
            self.finish(.transportError(error))
        }
    }
}

import EngineIOCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

@testable import EngineIOServer

// A small raw HTTP/1.1 + WebSocket client for live tests: it writes requests byte for byte and parses
// what comes back itself, so that tests assert exactly what a client on the wire would see.

enum TestClientError: Error, CustomStringConvertible {
    case timedOut(String)
    case closed(leftover: Int)
    case malformed(String)

    var description: String {
        switch self {
        case .timedOut(let what): return "timed out waiting for \(what)"
        case .closed(let leftover): return "connection closed (\(leftover) unread bytes)"
        case .malformed(let what): return "malformed: \(what)"
        }
    }
}

/// One HTTP response as read from the socket.
struct RawResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: ByteBuffer

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of header `name`.
    func headers(_ name: String) -> [String] {
        self.headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    var text: String { String(buffer: self.body) }

    /// The body parsed as a JSON object.
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(self.body.readableBytesView))
        guard let dictionary = object as? [String: Any] else { throw TestClientError.malformed("not a JSON object: \(self.text)") }
        return dictionary
    }

    /// The Engine.IO error `{"code":N,"message":"..."}` in the body, if it is one.
    var engineError: (code: Int, message: String)? {
        guard let json = try? self.json(), let code = json["code"] as? Int, let message = json["message"] as? String,
            json.count == 2
        else { return nil }
        return (code, message)
    }

    var description: String {
        "HTTP \(self.status) \(self.headers.map { "\($0.name): \($0.value)" }) \(self.text.debugDescription)"
    }
}

/// One WebSocket frame from the server.
struct RawWebSocketFrame: Sendable, Equatable {
    var fin: Bool
    var opcode: UInt8
    var payload: ByteBuffer

    var text: String { String(buffer: self.payload) }
    static let textOpcode: UInt8 = 0x1
    static let binaryOpcode: UInt8 = 0x2
    static let closeOpcode: UInt8 = 0x8
}

/// Parsers over the bytes received so far; each consumes what it returns, or nothing.
enum RawParsers {
    static func response(_ buffer: inout ByteBuffer, closed: Bool) throws -> RawResponse? {
        let view = buffer.readableBytesView
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = view.indices.first(where: { view[$0...].starts(with: terminator) }) else {
            if closed, view.isEmpty { throw TestClientError.closed(leftover: 0) }
            return nil
        }
        let head = String(decoding: view[view.startIndex..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            throw TestClientError.malformed("status line \(head.debugDescription)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw TestClientError.malformed("header \(line.debugDescription)") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let bodyStart = headEnd + 4 - view.startIndex
        let available = view.count - bodyStart
        let bodyLength: Int
        if let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) {
            bodyLength = length
        } else if status == 101 || status == 204 || status == 304 || (100..<200).contains(status) {
            bodyLength = 0
        } else if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" }) {
            throw TestClientError.malformed("chunked bodies are not expected from this server")
        } else {
            guard closed else { return nil }  // read until close
            bodyLength = available
        }
        guard available >= bodyLength else {
            if closed { throw TestClientError.closed(leftover: view.count) }
            return nil
        }
        buffer.moveReaderIndex(forwardBy: bodyStart)
        let body = buffer.readSlice(length: bodyLength)!
        return RawResponse(status: status, headers: headers, body: body)
    }

    static func webSocketFrame(_ buffer: inout ByteBuffer, closed: Bool) throws -> RawWebSocketFrame? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else {
            if closed { throw TestClientError.closed(leftover: buffer.readableBytes) }
            return nil
        }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            headerLength = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
            length = Int(extended)
            headerLength = 10
        }
        guard second & 0x80 == 0 else { throw TestClientError.malformed("a server frame must not be masked") }
        guard buffer.readableBytes >= headerLength + length else {
            if closed { throw TestClientError.closed(leftover: buffer.readableBytes) }
            return nil
        }
        buffer.moveReaderIndex(forwardBy: headerLength)
        let payload = buffer.readSlice(length: length)!
        return RawWebSocketFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload)
    }

    /// A masked client frame.
    static func maskedFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(fin ? 0x80 : 0) | opcode)
        if payload.count < 126 {
            buffer.writeInteger(UInt8(0x80 | payload.count))
        } else if payload.count <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(payload.count))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(payload.count))
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        buffer.writeBytes(mask)
        buffer.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        return buffer
    }
}

/// Collects the bytes of a connection on its event loop and completes one waiter at a time.
private final class ByteCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    private var isClosed = false
    private var waiter: (id: Int, attempt: () -> Bool)?
    private var nextID = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&bytes)
        self.poke()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.isClosed = true
        self.poke()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func poke() {
        if let waiter = self.waiter, waiter.attempt() { self.waiter = nil }
    }

    func wait<T: Sendable>(
        what: String,
        timeout: TimeAmount,
        eventLoop: EventLoop,
        parse: @escaping @Sendable (inout ByteBuffer, Bool) throws -> T?
    ) -> EventLoopFuture<T> {
        let promise = eventLoop.makePromise(of: T.self)
        precondition(self.waiter == nil, "one read at a time")
        let attempt: () -> Bool = { [unowned self] in
            do {
                if let value = try parse(&self.buffer, self.isClosed) {
                    promise.succeed(value)
                    return true
                }
                if self.isClosed {
                    promise.fail(TestClientError.closed(leftover: self.buffer.readableBytes))
                    return true
                }
                return false
            } catch {
                promise.fail(error)
                return true
            }
        }
        if attempt() { return promise.futureResult }
        self.nextID += 1
        let id = self.nextID
        self.waiter = (id, attempt)
        eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            guard self.waiter?.id == id else { return }
            self.waiter = nil
            promise.fail(TestClientError.timedOut(what))
        }
        return promise.futureResult
    }

    var closed: Bool { self.isClosed }
    var unread: Int { self.buffer.readableBytes }
}

/// One TCP connection to the server under test.
final class TestConnection: Sendable {
    let channel: Channel
    private let collector: NIOLoopBound<ByteCollector>
    /// The `Host` header value of the server.
    let host: String

    private init(channel: Channel, collector: NIOLoopBound<ByteCollector>, host: String) {
        self.channel = channel
        self.collector = collector
        self.host = host
    }

    static func connect(to address: SocketAddress) async throws -> TestConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCollector())
                }
            }
            .connect(to: address)
            .get()
        let collector = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ByteCollector.self), eventLoop: channel.eventLoop)
        }.get()
        return TestConnection(channel: channel, collector: collector, host: "127.0.0.1:\(address.port!)")
    }

    // MARK: Writing

    func write(_ bytes: ByteBuffer) async throws {
        try await self.channel.writeAndFlush(bytes)
    }

    func write(_ string: String) async throws {
        try await self.write(ByteBuffer(string: string))
    }

    /// Writes one request; `Host` and `Content-Length` are added.
    func send(
        _ method: String,
        _ uri: String,
        headers: [(String, String)] = [],
        body: ByteBuffer? = nil
    ) async throws {
        var request = "\(method) \(uri) HTTP/1.1\r\nHost: \(self.host)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.readableBytes)\r\n" }
        request += "\r\n"
        var bytes = ByteBuffer(string: request)
        if let body { bytes.writeImmutableBuffer(body) }
        try await self.write(bytes)
    }

    /// Writes one request and reads its response.
    func request(
        _ method: String,
        _ uri: String,
        headers: [(String, String)] = [],
        body: String? = nil,
        timeout: TimeAmount = .seconds(5)
    ) async throws -> RawResponse {
        try await self.send(method, uri, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return try await self.readResponse(timeout: timeout)
    }

    /// Writes a masked client WebSocket frame.
    func sendFrame(opcode: UInt8 = RawWebSocketFrame.textOpcode, _ payload: [UInt8]) async throws {
        try await self.write(RawParsers.maskedFrame(opcode: opcode, payload: payload))
    }

    func sendText(_ text: String) async throws {
        try await self.sendFrame(opcode: RawWebSocketFrame.textOpcode, Array(text.utf8))
    }

    /// Reads frames up to the server's close frame (returning its status code and the Engine.IO
    /// packets before it), answers it like a browser, and waits for the TCP connection to end.
    @discardableResult
    func completeCloseHandshake(timeout: TimeAmount = .seconds(5)) async throws -> (code: UInt16?, before: [String]) {
        var before: [String] = []
        while true {
            let frame = try await self.readFrame(timeout: timeout)
            guard frame.opcode == RawWebSocketFrame.closeOpcode else {
                before.append(frame.text)
                continue
            }
            try await self.sendFrame(opcode: RawWebSocketFrame.closeOpcode, Array(frame.payload.readableBytesView.prefix(2)))
            try await self.waitForClose(timeout: timeout)
            return (frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt16.self), before)
        }
    }

    // MARK: Reading

    func read<T: Sendable>(
        _ what: String,
        timeout: TimeAmount,
        parse: @escaping @Sendable (inout ByteBuffer, Bool) throws -> T?
    ) async throws -> T {
        let collector = self.collector
        let eventLoop = self.channel.eventLoop
        return try await eventLoop.flatSubmit {
            collector.value.wait(what: what, timeout: timeout, eventLoop: eventLoop, parse: parse)
        }.get()
    }

    func readResponse(timeout: TimeAmount = .seconds(5)) async throws -> RawResponse {
        try await self.read("an HTTP response", timeout: timeout, parse: RawParsers.response)
    }

    func readFrame(timeout: TimeAmount = .seconds(5)) async throws -> RawWebSocketFrame {
        try await self.read("a WebSocket frame", timeout: timeout, parse: RawParsers.webSocketFrame)
    }

    /// Waits until the server closes the connection; returns the number of bytes left unread.
    @discardableResult
    func waitForClose(timeout: TimeAmount = .seconds(5)) async throws -> Int {
        try await self.read("the connection to close", timeout: timeout) { buffer, closed in
            closed ? buffer.readableBytes : nil
        }
    }

    /// Whether the server closed the connection.
    var isClosed: Bool {
        get async throws {
            let collector = self.collector
            return try await self.channel.eventLoop.submit { collector.value.closed }.get()
        }
    }

    func close() async {
        try? await self.channel.close()
    }
}

// MARK: - Server under test

/// What the server's delegates saw.
final class EngineEventLog: Sendable {
    enum Event: Sendable, Hashable {
        case connected(sid: String)
        case message(sid: String, EngineMessage)
        case closed(sid: String, reason: String)
    }

    private let box = NIOLockedValueBox<[Event]>([])

    func append(_ event: Event) { self.box.withLockedValue { $0.append(event) } }

    var events: [Event] { self.box.withLockedValue { $0 } }

    func messages(of sid: String) -> [EngineMessage] {
        self.events.compactMap {
            if case .message(sid, let message) = $0 { return message }
            return nil
        }
    }

    func closeReasons(of sid: String) -> [String] {
        self.events.compactMap {
            if case .closed(sid, let reason) = $0 { return reason }
            return nil
        }
    }

    /// Waits until `condition` holds, checking every few milliseconds, for at most `timeout`.
    func waitUntil(
        _ what: String,
        timeout: Duration = .seconds(5),
        _ condition: @Sendable (EngineEventLog) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else { throw TestClientError.timedOut(what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Records every event of a session, and echoes its messages when asked to.
private final class RecordingDelegate: EngineSocketDelegate {
    let log: EngineEventLog
    let echo: Bool

    init(log: EngineEventLog, echo: Bool) {
        self.log = log
        self.echo = echo
    }

    func engineSocket(_ socket: EngineSocket, didReceive message: EngineMessage) {
        self.log.append(.message(sid: socket.id, message))
        if self.echo { socket.send(message) }
    }

    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) {
        self.log.append(.closed(sid: socket.id, reason: reason.name))
    }
}

/// An `HTTPServer` with an `EngineServer` on 127.0.0.1, port 0.
final class EngineTestServer: Sendable {
    let engine: EngineServer
    let http: HTTPServer
    let address: SocketAddress
    let log: EngineEventLog
    private let connections = NIOLockedValueBox<[TestConnection]>([])

    private init(engine: EngineServer, http: HTTPServer, address: SocketAddress, log: EngineEventLog) {
        self.engine = engine
        self.http = http
        self.address = address
        self.log = log
    }

    static func start(
        _ configuration: EngineServerConfiguration = .init(),
        http httpConfiguration: HTTPServer.Configuration = .init(host: "127.0.0.1", port: 0),
        echo: Bool = true,
        application: HTTPRequestHandler? = nil
    ) async throws -> EngineTestServer {
        let log = EngineEventLog()
        let engine = EngineServer(configuration: configuration)
        engine.onConnection { socket in
            log.append(.connected(sid: socket.id))
            socket.delegate = RecordingDelegate(log: log, echo: echo)
        }
        let http = HTTPServer(configuration: httpConfiguration, engine: engine, application: application)
        let address = try await http.start()
        return EngineTestServer(engine: engine, http: http, address: address, log: log)
    }

    /// Runs `body` against a fresh server, and shuts it down after.
    static func with<T>(
        _ configuration: EngineServerConfiguration = .init(),
        http httpConfiguration: HTTPServer.Configuration = .init(host: "127.0.0.1", port: 0),
        echo: Bool = true,
        application: HTTPRequestHandler? = nil,
        _ body: (EngineTestServer) async throws -> T
    ) async throws -> T {
        let server = try await start(configuration, http: httpConfiguration, echo: echo, application: application)
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    var port: Int { self.address.port! }
    var origin: String { "http://127.0.0.1:\(self.port)" }

    /// A new connection, closed at shutdown.
    func connect() async throws -> TestConnection {
        let connection = try await TestConnection.connect(to: self.address)
        self.connections.withLockedValue { $0.append(connection) }
        return connection
    }

    func shutdown() async {
        for connection in self.connections.withLockedValue({ $0 }) { await connection.close() }
        // polling sessions with no GET pending wait for one until the grace period ends
        try? await self.http.shutdown(gracePeriod: .milliseconds(500))
    }

    /// The engine path with a query.
    func path(_ query: String) -> String { "/socket.io/?\(query)" }

    /// A polling handshake on a new connection (or `connection`): the sid and the open packet's JSON.
    func handshake(
        on connection: TestConnection? = nil,
        query: String = "",
        headers: [(String, String)] = []
    ) async throws -> (sid: String, open: [String: Any], response: RawResponse) {
        let connection = if let connection { connection } else { try await self.connect() }
        let response = try await connection.request("GET", self.path("EIO=4&transport=polling" + query), headers: headers)
        guard response.status == 200, response.body.readableBytesView.first == UInt8(ascii: "0") else {
            throw TestClientError.malformed("handshake answer \(response)")
        }
        var json = response.body
        json.moveReaderIndex(forwardBy: 1)
        let object = try JSONSerialization.jsonObject(with: Data(json.readableBytesView))
        guard let open = object as? [String: Any], let sid = open["sid"] as? String else {
            throw TestClientError.malformed("open packet \(response.text)")
        }
        return (sid, open, response)
    }

    /// Waits until session `sid` holds a pending long-polling GET (its `isWritable` on polling).
    func waitForPendingPoll(_ sid: String, timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let socket = self.engine.socket(id: sid), try await socket.eventLoop.submit({ socket.isWritable }).get() { return }
            guard ContinuousClock.now < deadline else { throw TestClientError.timedOut("a pending GET of \(sid)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The headers of a WebSocket upgrade request.
    static func webSocketHeaders(origin: String? = nil) -> [(String, String)] {
        var headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ]
        if let origin { headers.append(("Origin", origin)) }
        return headers
    }
}

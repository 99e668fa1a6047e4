@_exported import EngineIOServer
@_exported import SocketIOAdapter
@_exported import SocketIOCore
// The HTTP surface (`HTTPServerRequest`, `HTTPServerResponse`, `socket.handshake.headers`) speaks
// swift-http-types, as Hummingbird 2 does.
@_exported import HTTPTypes

@_exported import EngineIOServer
@_exported import SocketIOCore

@_exported import EngineIOServer
@_exported import SocketIOAdapter
@_exported import SocketIOCore

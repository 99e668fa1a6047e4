@_exported import EngineIOClient
@_exported import SocketIOCore

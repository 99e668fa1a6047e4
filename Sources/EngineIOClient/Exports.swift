@_exported import EngineIOCore

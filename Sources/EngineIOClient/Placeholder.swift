// Module EngineIOClient: work in progress.

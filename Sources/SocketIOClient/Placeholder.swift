// Module SocketIOClient: work in progress.

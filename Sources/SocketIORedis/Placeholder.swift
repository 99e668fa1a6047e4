// Module SocketIORedis: work in progress.

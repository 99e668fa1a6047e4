print("socketio-chat: work in progress")

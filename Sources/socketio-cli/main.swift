print("socketio-cli: work in progress")

print("socketio-bench: work in progress")

// The Swift client example shown in README.md (compiled by CI, checked by Tests/Interop/test_readme_examples.py).
import SocketIOClient

func clientExample() async throws {
    // BEGIN client
    let manager = try Manager(url: "http://127.0.0.1:3000")
    let admin = manager.socket("/admin", auth: .value(["token": "secret"]))
    admin.on("stats") { args in
        print("stats:", args)
    }
    try await admin.connect()  // returns once connected; throws the server's connect_error
    let answer = try await admin.timeout(.seconds(5)).emitWithAck("ping", "hello")
    print("acknowledged with", answer)
    // END client
}

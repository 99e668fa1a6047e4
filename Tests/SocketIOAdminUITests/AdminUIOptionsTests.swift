import Testing

import SocketIOAdminUI

/// `Authentication(htpasswdEntry:)`: the USER:BCRYPT_HASH of the command-line tools.
@Suite struct AdminUIOptionsTests {
    static let hash = "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."  // "" (OpenBSD vectors)

    @Test func anHtpasswdLineGivesBasicAuthentication() throws {
        // as `htpasswd -nbB admin secret` prints it: the line, then an empty one
        let auth = try AdminUIOptions.Authentication(htpasswdEntry: "admin:\(Self.hash)\n\n")
        guard case .basic(let username, let passwordHash) = auth else {
            Issue.record("not basic authentication")
            return
        }
        #expect(username == "admin" && passwordHash == Self.hash)
        // the username ends at the first ':'
        #expect(throws: AdminUIError.invalidPasswordHash) { try AdminUIOptions.Authentication(htpasswdEntry: "a:b:\(Self.hash)") }
    }

    @Test(arguments: ["admin", ":\(hash)", ""])
    func anEntryWithoutUserOrColonIsRefused(_ entry: String) {
        #expect(throws: AdminUIError.invalidHtpasswdEntry) { try AdminUIOptions.Authentication(htpasswdEntry: entry) }
    }

    @Test func aPasswordThatIsNotABcryptHashIsRefused() {
        #expect(throws: AdminUIError.invalidPasswordHash) { try AdminUIOptions.Authentication(htpasswdEntry: "admin:secret") }
    }
}

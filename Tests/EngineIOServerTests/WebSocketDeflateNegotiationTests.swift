import Testing

@testable import EngineIOServer

@Suite("permessage-deflate negotiation")
struct WebSocketDeflateNegotiationTests {
    private func negotiate(_ values: [String], _ configuration: PerMessageDeflateConfiguration = .init()) -> String? {
        PerMessageDeflateNegotiation.negotiate(headerValues: values, configuration: configuration)?.headerValue
    }

    @Test func plainOffer() {
        #expect(self.negotiate(["permessage-deflate"]) == "permessage-deflate")
        #expect(self.negotiate(["x-webkit-deflate-frame"]) == nil)
        #expect(self.negotiate([]) == nil)
    }

    @Test func contextTakeoverParameters() {
        #expect(self.negotiate(["permessage-deflate; server_no_context_takeover"]) == "permessage-deflate; server_no_context_takeover")
        #expect(self.negotiate(["permessage-deflate; client_no_context_takeover"]) == "permessage-deflate; client_no_context_takeover")
        // The server's own wishes are added even when not offered.
        #expect(
            self.negotiate(["permessage-deflate"], .init(serverNoContextTakeover: true, clientNoContextTakeover: true))
                == "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        )
        let parameters = PerMessageDeflateNegotiation.negotiate(
            headerValues: ["permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
            configuration: .init()
        )
        #expect(parameters?.serverNoContextTakeover == true)
        #expect(parameters?.clientNoContextTakeover == true)
    }

    @Test func serverMaxWindowBits() {
        #expect(self.negotiate(["permessage-deflate; server_max_window_bits=10"]) == "permessage-deflate; server_max_window_bits=10")
        #expect(self.negotiate(["permessage-deflate; server_max_window_bits=15"]) == "permessage-deflate; server_max_window_bits=15")
        // Never larger than the offer, smaller when configured.
        #expect(
            self.negotiate(["permessage-deflate; server_max_window_bits=12"], .init(serverMaxWindowBits: 10))
                == "permessage-deflate; server_max_window_bits=10"
        )
        #expect(self.negotiate(["permessage-deflate"], .init(serverMaxWindowBits: 11)) == "permessage-deflate; server_max_window_bits=11")
        // 8 is accepted and compressed Huffman-only (zlib has no raw 8-bit window).
        let eight = PerMessageDeflateNegotiation.negotiate(
            headerValues: ["permessage-deflate; server_max_window_bits=8"],
            configuration: .init()
        )
        #expect(eight?.serverMaxWindowBits == 8)
        #expect(eight?.headerValue == "permessage-deflate; server_max_window_bits=8")
        // A value is required.
        #expect(self.negotiate(["permessage-deflate; server_max_window_bits"]) == nil)
        #expect(self.negotiate(["permessage-deflate; server_max_window_bits=\"10\""]) == "permessage-deflate; server_max_window_bits=10")
    }

    @Test func clientMaxWindowBits() {
        #expect(self.negotiate(["permessage-deflate; client_max_window_bits"]) == "permessage-deflate")
        #expect(self.negotiate(["permessage-deflate; client_max_window_bits=10"]) == "permessage-deflate")
        #expect(
            self.negotiate(["permessage-deflate; client_max_window_bits"], .init(clientMaxWindowBits: 12))
                == "permessage-deflate; client_max_window_bits=12"
        )
        #expect(
            self.negotiate(["permessage-deflate; client_max_window_bits=10"], .init(clientMaxWindowBits: 12))
                == "permessage-deflate"
        )
        #expect(
            self.negotiate(["permessage-deflate; client_max_window_bits=13"], .init(clientMaxWindowBits: 12))
                == "permessage-deflate; client_max_window_bits=12"
        )
        // Not offered: must not be in the response.
        #expect(self.negotiate(["permessage-deflate"], .init(clientMaxWindowBits: 9)) == "permessage-deflate")
    }

    @Test func invalidOffersAreDeclined() {
        for offer in [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=abc",
            "permessage-deflate; client_max_window_bits=0",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=true",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; unknown_parameter",
            "permessage-deflate; =10",
        ] {
            #expect(self.negotiate([offer]) == nil, "\(offer)")
        }
    }

    @Test func firstAcceptableOfferWins() {
        #expect(
            self.negotiate([
                "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover, permessage-deflate"
            ]) == "permessage-deflate; client_no_context_takeover"
        )
        // Offers spread over several header lines, other extensions in between.
        #expect(
            self.negotiate(["foo; bar=1", "permessage-deflate; bogus", "permessage-deflate; server_max_window_bits=9"])
                == "permessage-deflate; server_max_window_bits=9"
        )
        // Three valid offers: the first one wins.
        #expect(
            self.negotiate([
                "permessage-deflate; client_no_context_takeover; client_max_window_bits=9, permessage-deflate; client_no_context_takeover, permessage-deflate"
            ]) == "permessage-deflate; client_no_context_takeover"
        )
    }

    @Test func parsesQuotedValuesAndSpacing() {
        let offers = PerMessageDeflateNegotiation.parse(headerValues: [" Permessage-Deflate ;Client_Max_Window_Bits = \"10\" , foo"])
        #expect(offers.count == 2)
        #expect(offers[0].name == "permessage-deflate")
        #expect(offers[0].parameters.count == 1)
        #expect(offers[0].parameters[0].name == "client_max_window_bits")
        #expect(offers[0].parameters[0].value == "10")
        #expect(offers[1].name == "foo")
    }
}

/// Pure permessage-deflate negotiation (RFC 7692 section 7.1) over the `Sec-WebSocket-Extensions` offers of a
/// client: the first acceptable offer wins; an offer with an unknown, duplicate or malformed parameter is
/// declined and the next one is tried.
enum PerMessageDeflateNegotiation {
    /// One extension offer: its name and its parameters in order (a parameter without value has `nil`).
    struct Offer: Equatable {
        var name: String
        var parameters: [(name: String, value: String?)]

        static func == (lhs: Offer, rhs: Offer) -> Bool {
            lhs.name == rhs.name && lhs.parameters.elementsEqual(rhs.parameters, by: { $0 == $1 })
        }
    }

    static let extensionName = "permessage-deflate"

    /// Negotiates over all the `Sec-WebSocket-Extensions` header values of a request.
    static func negotiate(headerValues: [String], configuration: PerMessageDeflateConfiguration)
        -> PerMessageDeflateParameters?
    {
        for offer in self.parse(headerValues: headerValues) where offer.name == self.extensionName {
            if let accepted = self.accept(offer, configuration: configuration) {
                return accepted
            }
        }
        return nil
    }

    /// Answers one permessage-deflate offer, or returns nil to decline it.
    static func accept(_ offer: Offer, configuration: PerMessageDeflateConfiguration) -> PerMessageDeflateParameters? {
        var serverNoContextTakeover = false
        var clientNoContextTakeover = false
        var serverMaxWindowBits: Int?
        var clientMaxWindowBitsOffered = false
        var clientMaxWindowBits: Int?
        var seen: Set<String> = []
        for parameter in offer.parameters {
            guard seen.insert(parameter.name).inserted else { return nil }
            switch parameter.name {
            case "server_no_context_takeover":
                guard parameter.value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard parameter.value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value = parameter.value, let bits = self.windowBits(value) else { return nil }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                clientMaxWindowBitsOffered = true
                if let value = parameter.value {
                    guard let bits = self.windowBits(value) else { return nil }
                    clientMaxWindowBits = bits
                }
            default:
                return nil
            }
        }

        var parameters = PerMessageDeflateParameters(
            serverNoContextTakeover: serverNoContextTakeover || configuration.serverNoContextTakeover,
            clientNoContextTakeover: clientNoContextTakeover || configuration.clientNoContextTakeover
        )
        if let offered = serverMaxWindowBits {
            // The response must carry the same or a smaller value (section 7.1.2.1).
            parameters.serverMaxWindowBits = min(offered, configuration.serverMaxWindowBits)
            parameters.announcesServerMaxWindowBits = true
        } else {
            parameters.serverMaxWindowBits = configuration.serverMaxWindowBits
            parameters.announcesServerMaxWindowBits = configuration.serverMaxWindowBits < 15
        }
        if clientMaxWindowBitsOffered {
            let offered = clientMaxWindowBits ?? 15
            if configuration.clientMaxWindowBits < offered {
                parameters.clientMaxWindowBits = configuration.clientMaxWindowBits
                parameters.announcesClientMaxWindowBits = true
            } else {
                parameters.clientMaxWindowBits = offered
                parameters.announcesClientMaxWindowBits = false
            }
        } else {
            // Without the parameter in the offer the response must not carry it (section 7.1.2.2).
            parameters.clientMaxWindowBits = 15
            parameters.announcesClientMaxWindowBits = false
        }
        return parameters
    }

    /// Parses `8` ... `15` exactly as RFC 7692 writes them (no sign, no leading zero).
    static func windowBits(_ value: String) -> Int? {
        guard !value.isEmpty, value.utf8.count <= 2, value.utf8.first != UInt8(ascii: "0"),
            value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let bits = Int(value), (8...15).contains(bits)
        else { return nil }
        return bits
    }

    /// Splits header values into offers. Names and parameter names are lowercased; quoted values are unquoted.
    /// A syntactically broken element yields an offer with an unusable name so that it is declined.
    static func parse(headerValues: [String]) -> [Offer] {
        var offers: [Offer] = []
        for headerValue in headerValues {
            for element in self.split(headerValue, separator: ",") {
                let parts = self.split(element, separator: ";").map { $0.trimmingSpaces() }
                guard let name = parts.first, !name.isEmpty else { continue }
                var offer = Offer(name: name.lowercased(), parameters: [])
                for part in parts.dropFirst() {
                    if let equals = part.firstIndex(of: "=") {
                        let key = String(part[..<equals]).trimmingSpaces().lowercased()
                        var value = String(part[part.index(after: equals)...]).trimmingSpaces()
                        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                            value = String(value.dropFirst().dropLast()).replacingBackslashEscapes()
                        }
                        offer.parameters.append((key, value))
                    } else {
                        offer.parameters.append((part.lowercased(), nil))
                    }
                }
                if offer.parameters.contains(where: { $0.name.isEmpty }) {
                    offer.name = ""
                }
                offers.append(offer)
            }
        }
        return offers
    }

    /// Splits on `separator` outside double quotes.
    private static func split(_ string: String, separator: Character) -> [String] {
        var result: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for char in string {
            if escaped {
                escaped = false
            } else if char == "\\" && inQuotes {
                escaped = true
            } else if char == "\"" {
                inQuotes.toggle()
            } else if char == separator && !inQuotes {
                result.append(current)
                current = ""
                continue
            }
            current.append(char)
        }
        result.append(current)
        return result
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }

    fileprivate func replacingBackslashEscapes() -> String {
        var result = ""
        var escaped = false
        for char in self {
            if !escaped && char == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(char)
        }
        return result
    }
}

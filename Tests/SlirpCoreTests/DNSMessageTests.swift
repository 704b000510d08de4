import Testing
@testable import SlirpCore

/// The DNS reply slirpmon reads comes from whatever answers at slirp4netns's DNS address in a
/// namespace its user controls: read within its bytes, never trusted.
@Suite("DNS messages: our query, a hostile reply")
struct DNSMessageTests {
    let labels = (try? DNSMessage.labels(of: "probe.test").get()) ?? []
    var query: [UInt8] { DNSMessage.query(id: 0x1234, labels: labels, type: .a) }

    /// A reply to `query` with `answers` raw answer records and `code`.
    func reply(code: UInt8 = 0, answers: [[UInt8]], flags: UInt8 = 0x81) -> [UInt8] {
        var bytes = Array(query[0..<12])
        bytes[2] = flags
        bytes[3] = 0x80 | code
        bytes[6] = 0
        bytes[7] = UInt8(answers.count)
        bytes += query[12...]
        for answer in answers { bytes += answer }
        return bytes
    }

    /// An A record for the question's name (a pointer to offset 12).
    func aRecord(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> [UInt8] { [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, a, b, c, d] }

    @Test("a query for probe.test is RFC 1035's: ID, RD, one question, labels, A, IN")
    func queryBytes() {
        #expect(query == [0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5] + Array("probe".utf8) + [4] + Array("test".utf8) + [0, 0, 1, 0, 1])
    }

    @Test("names that cannot be asked are refused with the reason")
    func badNames() {
        for name in ["", ".", "a..b", "bad name", "x;rm", String(repeating: "a", count: 64) + ".test", String(repeating: "a.", count: 130)] {
            #expect(throws: DNSMessage.NameError.self, "\(name)") { try DNSMessage.labels(of: name).get() }
        }
        #expect((try? DNSMessage.labels(of: "example.com.").get())?.count == 2)
    }

    @Test("an answer's addresses are read; NXDOMAIN is a code, not an error")
    func answers() throws {
        let r = try DNSMessage.reply(reply(answers: [aRecord(192, 0, 2, 77), aRecord(192, 0, 2, 78)]), to: query, type: .a)
        #expect(r.code == 0 && r.codeWord == "NOERROR" && r.addresses == ["192.0.2.77", "192.0.2.78"])
        let nx = try DNSMessage.reply(reply(code: 3, answers: []), to: query, type: .a)
        #expect(nx.codeWord == "NXDOMAIN" && nx.addresses.isEmpty)
    }

    @Test("another ID, a query echoed back, another question: not ours (keep waiting)")
    func notOurs() {
        var other = reply(answers: [aRecord(1, 2, 3, 4)])
        other[1] ^= 0xFF
        #expect(throws: DNSMessage.ReplyError.notOurs) { try DNSMessage.reply(other, to: query, type: .a) }
        #expect(throws: DNSMessage.ReplyError.notOurs) { try DNSMessage.reply(query, to: query, type: .a) }
        var question = reply(answers: [])
        question[14] = UInt8(ascii: "x")
        #expect(throws: DNSMessage.ReplyError.notOurs) { try DNSMessage.reply(question, to: query, type: .a) }
        #expect(throws: DNSMessage.ReplyError.notOurs) { try DNSMessage.reply([0x12], to: query, type: .a) }
    }

    @Test("a hostile reply: lengths past the end, a label loop, 65535 claimed answers; each is an error or ignored, never a crash")
    func hostileReplies() {
        // Record data longer than the message.
        #expect(throws: DNSMessage.ReplyError.self) { try DNSMessage.reply(reply(answers: [[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0xFF, 0xFF, 1]]), to: query, type: .a) }
        // A name of labels that never ends within the message.
        #expect(throws: DNSMessage.ReplyError.self) { try DNSMessage.reply(reply(answers: [[63] + [UInt8](repeating: 65, count: 20)]), to: query, type: .a) }
        // A reserved label type (0x40).
        #expect(throws: DNSMessage.ReplyError.self) { try DNSMessage.reply(reply(answers: [[0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]), to: query, type: .a) }
        // Many answers claimed, one present.
        var many = reply(answers: [aRecord(1, 2, 3, 4)])
        many[6] = 0xFF
        many[7] = 0xFF
        #expect(throws: DNSMessage.ReplyError.self) { try DNSMessage.reply(many, to: query, type: .a) }
        // Truncated (TC): what is there is read, the rest not asked for.
        var cut = reply(answers: [aRecord(1, 2, 3, 4)], flags: 0x83)
        cut[7] = 2
        #expect((try? DNSMessage.reply(cut, to: query, type: .a))?.addresses == ["1.2.3.4"])
        // An A record of the wrong length is not an address.
        #expect((try? DNSMessage.reply(reply(answers: [[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3]]), to: query, type: .a))?.addresses == [])
    }

    @Test("the host resolver's nameservers as libslirp reads them: `nameserver` at the line start, then a blank; IPv4 and IPv6 kept apart, first of each")
    func hostNameservers() {
        let text = "# nameserver 9.9.9.9\n nameserver 8.8.8.8\nnameserver\t127.0.0.53\nnameserver ::1%lo\nnameserverX 1.1.1.1\nnameserver bogus\nnameserver 10.0.0.1\n"
        #expect(HostResolver.nameservers(inResolvConf: text) == ["127.0.0.53", "::1%lo", "10.0.0.1"])
        let host = HostResolver(path: "p", nameservers: HostResolver.nameservers(inResolvConf: text), problem: nil)
        #expect(host.ipv4 == "127.0.0.53" && host.ipv6 == "::1%lo" && host.neverAsked(after: "127.0.0.53") == ["10.0.0.1"])
        // A scope that is not an interface name (control bytes: found by assets/fuzz.sh dns-reply) is left off.
        #expect(HostResolver.nameservers(inResolvConf: "nameserver ::1%l\u{0}\u{1b}[2J\n") == ["::1"])
        #expect(HostResolver.isLoopback("127.0.0.53") && HostResolver.isLoopback("::1%lo") && !HostResolver.isLoopback("10.0.0.1"))
    }
}

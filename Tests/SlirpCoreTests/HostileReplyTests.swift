import Foundation
import SlirpCore
import Testing

/// Replies are printed on the operator's terminal: a peer must not be able to drive it.
@Suite("Replies from a hostile peer")
struct HostileReplyTests {
    @Test("a reply that is not JSON is quoted without its control characters")
    func garbageExcerptIsPrintable() {
        let garbage = Array("\u{0}\u{FF}<html>\u{1B}[2J\u{1B}]0;pwned\u{07} {{{\n".utf8)
        #expect(throws: APIMessage.DecodeError.notJSON(excerpt: #"\x00ÿ<html>\x1B[2J\x1B]0;pwned\x07 {{{\x0A"#)) {
            try APIMessage.decode(garbage)
        }
    }

    @Test("slirp4netns's error text and a forward's addresses cannot carry escape sequences")
    func decodedStringsArePrintable() throws {
        let error = try APIMessage.decode(Array(#"{"error":{"desc":"bad\u001b[31m\nrequest\u009b"}}"#.utf8))
        #expect(error == .error(#"bad\x1B[31m\x0Arequest\x9B"#))
        let list = try APIMessage.decode(Array(#"{"entries":[{"id":1,"proto":"tcp","host_addr":"127.0.0.1\u001b[2J","host_port":1,"guest_addr":"\r10.0.2.100","guest_port":2}]}"#.utf8))
        guard case .entries(let entries) = list, let first = entries.first else { Issue.record("not a list: \(list)"); return }
        #expect(first.hostAddr == #"127.0.0.1\x1B[2J"#)
        #expect(first.guestAddr == #"\x0D10.0.2.100"#)
        // Ordinary text is untouched.
        #expect(try APIMessage.decode(Array(#"{"error":{"desc":"bad request: unknown execute"}}"#.utf8)) == .error("bad request: unknown execute"))
    }
}

@Suite("Errors about operator input stay one readable line")
struct ReadableErrorTests {
    @Test("a 10 KB target is quoted abbreviated, and 'running:' names ten instances and how many more")
    func longTargetAndManyInstances() {
        let known = (1...100).map { "pid \($0)" }
        let text = TargetResolver.Failure.notFound(target: String(repeating: "9", count: 10_000), known: known).description
        #expect(text.utf8.count < 300, "\(text.utf8.count) bytes")
        #expect(text.contains("pid 1, pid 2") && text.contains("pid 10 and 90 more (slirpmon list)"))
        #expect(!text.contains("pid 11,"))
    }
}

@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// Found by `assets/fuzz.sh port-mapping`: a long protocol or host address was quoted whole.
    @Test("a port mapping's error quotes a long protocol or host address abbreviated")
    func longProtocolOrHostAddress() {
        let inputs = ["/tcp,u" + String(repeating: "z", count: 300) + "^", String(repeating: "h", count: 500) + ":8080:80",
                      "8080:80/" + String(repeating: "x", count: 5000)]
        for input in inputs {
            do {
                _ = try PortMapping.parse(input)
                Issue.record("\(input.prefix(20)) parsed")
            } catch {
                #expect(error.message.utf8.count < 250, "\(error.message.utf8.count) bytes: \(error.message.prefix(120))")
            }
        }
    }
}

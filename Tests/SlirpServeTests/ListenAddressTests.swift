import SlirpServe
import Testing

@Suite("slirpmon serve --listen: the addresses an operator writes")
struct ListenAddressTests {
    @Test("IPv4 and bracketed IPv6 addresses with a port are taken, and whether each is loopback is known")
    func anOperatorsAddressFormsAreTakenWithTheirLoopbackness() throws {
        let cases: [(String, String, Int, Bool)] = [
            ("127.0.0.1:9184", "127.0.0.1", 9184, true), ("127.8.9.10:1", "127.8.9.10", 1, true),
            ("[::1]:9184", "::1", 9184, true), ("0.0.0.0:9184", "0.0.0.0", 9184, false),
            ("[::]:80", "::", 80, false), ("192.0.2.7:65535", "192.0.2.7", 65535, false),
            ("[::ffff:127.0.0.1]:9", "::ffff:127.0.0.1", 9, true), ("127.0.0.1:0", "127.0.0.1", 0, true),
        ]
        for (text, host, port, loopback) in cases {
            let address = try ListenAddress(parsing: text)
            #expect(address.host == host, "\(text)")
            #expect(address.port == port, "\(text)")
            #expect(address.isLoopback == loopback, "\(text)")
            #expect(address.description == text, "\(text)")
        }
    }

    @Test("a bad address is refused with what is wrong and the form (exit 2)")
    func aBadAddressIsRefusedWithWhatIsWrongAndTheForm() {
        let cases: [(String, String)] = [
            ("9184", "no :PORT"), (":9184", "no address before :PORT"), ("localhost:9184", "host names are not resolved"),
            ("::1:9184", "an IPv6 address goes in brackets: [::1]:9184"), ("[::1:9184", "is not closed"),
            ("[::1]9184", "no :PORT after"), ("[127.0.0.1]:80", "is not an IPv6 address"),
            ("127.0.0.1:65536", "from 0 to 65535"), ("127.0.0.1:-1", "from 0 to 65535"), ("127.0.0.1:", "from 0 to 65535"),
            ("127.0.0.1:80x", "from 0 to 65535"), ("300.1.1.1:80", "not an IPv4 address"), ("", "no :PORT"),
            ("127.0.0.1:+80", "from 0 to 65535"), ("127.0.0.1:٨٠", "from 0 to 65535"),
        ]
        for (text, expected) in cases {
            do throws(ServeError) {
                let address = try ListenAddress(parsing: text)
                Issue.record("\(text): taken as \(address)")
            } catch {
                let message = "\(error)"
                #expect(message.contains(expected), "\(text): \(message)")
                #expect(message.contains("e.g. 127.0.0.1:9184 or [::1]:9184"), "\(text): \(message)")
                #expect(error.exitStatus == 2)
            }
        }
    }
}

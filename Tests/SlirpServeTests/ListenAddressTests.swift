import SlirpServe
import XCTest

final class ListenAddressTests: XCTestCase {
    func testAnOperatorsAddressFormsAreTakenWithTheirLoopbackness() throws {
        let cases: [(String, String, Int, Bool)] = [
            ("127.0.0.1:9184", "127.0.0.1", 9184, true), ("127.8.9.10:1", "127.8.9.10", 1, true),
            ("[::1]:9184", "::1", 9184, true), ("0.0.0.0:9184", "0.0.0.0", 9184, false),
            ("[::]:80", "::", 80, false), ("192.0.2.7:65535", "192.0.2.7", 65535, false),
            ("[::ffff:127.0.0.1]:9", "::ffff:127.0.0.1", 9, true), ("127.0.0.1:0", "127.0.0.1", 0, true),
        ]
        for (text, host, port, loopback) in cases {
            let address = try ListenAddress(parsing: text)
            XCTAssertEqual(address.host, host, text)
            XCTAssertEqual(address.port, port, text)
            XCTAssertEqual(address.isLoopback, loopback, text)
            XCTAssertEqual(address.description, text, text)
        }
    }

    func testABadAddressIsRefusedWithWhatIsWrongAndTheForm() {
        let cases: [(String, String)] = [
            ("9184", "no :PORT"), (":9184", "no address before :PORT"), ("localhost:9184", "host names are not resolved"),
            ("::1:9184", "an IPv6 address goes in brackets: [::1]:9184"), ("[::1:9184", "is not closed"),
            ("[::1]9184", "no :PORT after"), ("[127.0.0.1]:80", "is not an IPv6 address"),
            ("127.0.0.1:65536", "from 0 to 65535"), ("127.0.0.1:-1", "from 0 to 65535"), ("127.0.0.1:", "from 0 to 65535"),
            ("127.0.0.1:80x", "from 0 to 65535"), ("300.1.1.1:80", "not an IPv4 address"), ("", "no :PORT"),
            ("127.0.0.1:+80", "from 0 to 65535"), ("127.0.0.1:٨٠", "from 0 to 65535"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try ListenAddress(parsing: text), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(expected), "\(text): \(message)")
                XCTAssertTrue(message.contains("e.g. 127.0.0.1:9184 or [::1]:9184"), "\(text): \(message)")
                XCTAssertEqual((error as? ServeError)?.exitStatus, 2)
            }
        }
    }
}

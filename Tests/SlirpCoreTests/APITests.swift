import Foundation
import Testing
@testable import SlirpCore

private func json(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

private func reply(_ text: String) throws -> APIMessage.Reply {
    try APIMessage.decode(Array(text.utf8))
}

private func decodeError(_ text: String) -> APIMessage.DecodeError? {
    do { _ = try APIMessage.decode(Array(text.utf8)); return nil } catch { return error }
}

/// Requests must be exactly what slirp4netns 1.2 accepts: one compact JSON line, proto always set.
@Suite("API requests")
struct APIRequestTests {
    private func checkFraming(_ bytes: [UInt8]) {
        #expect(bytes.last == 10, "one line ending in \\n")
        #expect(bytes.filter { $0 == 10 }.count == 1, "exactly one newline")
        #expect(!bytes.contains(32), "compact JSON, no spaces")
        #expect(bytes.count <= APIMessage.maximumRequestBytes)
    }

    @Test func listRequest() throws {
        let bytes = APIMessage.listRequest()
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"execute\":\"list_hostfwd\"}\n")
        checkFraming(bytes)
        #expect(try json(bytes)["execute"] as? String == "list_hostfwd")
    }

    @Test func addRequestWithoutGuestAddress() throws {
        let request = ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: Port(18080)!, guestPort: Port(80)!)
        let bytes = APIMessage.addRequest(request)
        checkFraming(bytes)
        #expect(String(decoding: bytes, as: UTF8.self) ==
                "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":18080,\"guest_port\":80}}\n")
        let object = try json(bytes)
        #expect(object["execute"] as? String == "add_hostfwd")
        let args = try #require(object["arguments"] as? [String: Any])
        #expect(args["proto"] as? String == "tcp")
        #expect(args["host_addr"] as? String == "127.0.0.1")
        #expect((args["host_port"] as? NSNumber)?.intValue == 18080)
        #expect((args["guest_port"] as? NSNumber)?.intValue == 80)
        #expect(args["guest_addr"] == nil)
        #expect(Set(args.keys) == ["proto", "host_addr", "host_port", "guest_port"])
    }

    @Test func addRequestUDPWithGuestAddressAndDefaultHost() throws {
        let request = ForwardRequest(proto: .udp, hostPort: Port(5353)!, guestAddr: IPv4Address(10, 0, 2, 100), guestPort: Port(65535)!)
        let bytes = APIMessage.addRequest(request)
        checkFraming(bytes)
        let object = try json(bytes)
        let args = try #require(object["arguments"] as? [String: Any])
        #expect(args["proto"] as? String == "udp") // always present: slirp4netns dereferences it unchecked
        #expect(args["host_addr"] as? String == "0.0.0.0")
        #expect((args["host_port"] as? NSNumber)?.intValue == 5353)
        #expect(args["guest_addr"] as? String == "10.0.2.100")
        #expect((args["guest_port"] as? NSNumber)?.intValue == 65535)
        #expect(request.summary == "udp 0.0.0.0:5353 -> 10.0.2.100:65535")
    }

    @Test func removeRequest() throws {
        let bytes = APIMessage.removeRequest(id: 7)
        checkFraming(bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":7}}\n")
        let object = try json(bytes)
        let args = try #require(object["arguments"] as? [String: Any])
        #expect((args["id"] as? NSNumber)?.intValue == 7)
    }

    @Test func portsAreValidated() {
        #expect(Port(0) == nil)
        #expect(Port(65536) == nil)
        #expect(Port(-1) == nil)
        #expect(Port(1)?.value == 1)
        #expect(Port(65535)?.description == "65535")
    }
}

@Suite("API replies")
struct APIReplyTests {
    static let realList = #"{"entries":[{"id":1,"proto":"tcp","host_addr":"127.0.0.1","host_port":18080,"guest_addr":"10.0.2.100","guest_port":80}]}"#
    static let forward = HostForward(id: 1, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18080, guestAddr: "10.0.2.100", guestPort: 80)

    @Test func listAsSlirp4netns12SendsIt() throws {
        #expect(try reply(Self.realList) == .entries([Self.forward]))
        #expect(Self.forward.summary == "tcp 127.0.0.1:18080 -> 10.0.2.100:80")
    }

    @Test func listAsTheManPageDescribesIt() throws {
        let wrapped = #"{"return":{"entries":[{"id":1,"proto":"tcp","host_addr":"127.0.0.1","host_port":18080,"guest_addr":"10.0.2.100","guest_port":80}]}}"#
        #expect(try reply(wrapped) == .entries([Self.forward]))
        #expect(try reply(#"{"return":{"entries":[]}}"#) == .entries([]))
        #expect(try reply(#"{"entries":[]}"#) == .entries([]))
    }

    @Test func addAndRemoveReplies() throws {
        #expect(try reply(#"{"return":{"id":1}}"#) == .added(id: 1))
        #expect(try reply(#"{"return":{"id":42}}"# + "\n") == .added(id: 42))
        #expect(try reply(#"{"return":{}}"#) == .done)
        #expect(try reply(#"{"return":{"id":9223372036854775807}}"#) == .added(id: Int.max))
    }

    @Test(arguments: [
        "bad request: remove_hostfwd: bad arguments.id",
        "bad request: add_hostfwd: slirp_add_hostfwd failed",
        "bad request: cannot parse JSON",
        "bad request: unknown execute",
        "bad request: too large message",
        "bad request: no execute found",
        "bad request: add_hostfwd: bad arguments.proto",
        "bad request: add_hostfwd: bad arguments.host_addr",
        "bad request: add_hostfwd: bad arguments.host_port",
        "bad request: add_hostfwd: bad arguments.guest_addr",
        "bad request: add_hostfwd: bad arguments.guest_port",
        "bad request: remove_hostfwd: slirp_remove_hostfwd failed",
    ])
    func errorDescriptionsAreReturnedVerbatim(desc: String) throws {
        #expect(try reply(#"{"error":{"desc":"\#(desc)"}}"#) == .error(desc))
    }

    @Test func errorWithoutDescStillReportsSomething() throws {
        guard case .error(let text) = try reply(#"{"error":"boom"}"#) else {
            Issue.record("not an error reply")
            return
        }
        #expect(text.contains("boom"))
    }

    @Test func emptyReplies() {
        #expect(decodeError("") == .empty)
        #expect(decodeError(" \n\t\r") == .empty)
        #expect(APIMessage.DecodeError.empty.description.contains("without a reply"))
    }

    @Test func notJSON() throws {
        let error = try #require(decodeError("hello there"))
        #expect(error == .notJSON(excerpt: "hello there"))
        #expect(error.description.contains("not JSON"))
        #expect(error.description.contains("hello there"))
        #expect(decodeError(#"{"entries":[{"id":1"#) == .notJSON(excerpt: #"{"entries":[{"id":1"#))
        // The excerpt is bounded.
        if case .notJSON(let excerpt) = decodeError(String(repeating: "x", count: 5000)) {
            #expect(excerpt.count <= 200)
        } else {
            Issue.record("long garbage not reported as not JSON")
        }
    }

    @Test(arguments: [
        "[1,2]", "[]", "{}", #"{"return":5}"#, #"{"return":{"foo":1}}"#, #"{"entries":{}}"#, #"{"entries":[1]}"#,
        #"{"entries":[{"id":"x","proto":"tcp","host_port":1,"guest_port":2}]}"#,
        #"{"entries":[{"id":1,"proto":"sctp","host_port":1,"guest_port":2}]}"#,
        #"{"entries":[{"id":1,"host_port":1,"guest_port":2}]}"#,
        #"{"entries":[{"id":1,"proto":"tcp","guest_port":2}]}"#,
        #"{"return":{"entries":"none"}}"#,
        // Numbers that are not exact integers, and booleans, are not ids or ports.
        #"{"return":{"id":true}}"#, #"{"return":{"id":1.5}}"#, #"{"return":{"id":1e30}}"#, #"{"return":{"id":"1"}}"#,
        #"{"entries":[{"id":1,"proto":"tcp","host_port":80.5,"guest_port":2}]}"#,
        #"{"entries":[{"id":false,"proto":"tcp","host_port":80,"guest_port":2}]}"#,
    ])
    func wrongShapesAreRejected(text: String) throws {
        let error = try #require(decodeError(text))
        #expect(error == .unexpectedShape(excerpt: text))
        #expect(error.description.contains("unexpected shape"))
    }

    @Test func bareJSONValuesAreRefused() {
        for text in ["5", #""text""#, "null", "true"] {
            let error = decodeError(text)
            #expect(error == .unexpectedShape(excerpt: text) || error == .notJSON(excerpt: text), "\(text)")
        }
    }

    @Test func aThousandEntriesDecodeWhole() throws {
        let entries = (1...1000).map { i in
            #"{"id":\#(i),"proto":"\#(i % 2 == 0 ? "udp" : "tcp")","host_addr":"0.0.0.0","host_port":\#(20000 + i),"guest_addr":"10.0.2.100","guest_port":\#(i)}"#
        }
        let text = #"{"entries":["# + entries.joined(separator: ",") + "]}"
        guard case .entries(let forwards) = try reply(text) else {
            Issue.record("not an entries reply")
            return
        }
        #expect(forwards.count == 1000)
        #expect(forwards.first == HostForward(id: 1, proto: .tcp, hostAddr: "0.0.0.0", hostPort: 20001, guestAddr: "10.0.2.100", guestPort: 1))
        #expect(forwards.last == HostForward(id: 1000, proto: .udp, hostAddr: "0.0.0.0", hostPort: 21000, guestAddr: "10.0.2.100", guestPort: 1000))
        #expect(forwards.map(\.id) == Array(1...1000))
    }

    @Test func hostForwardJSONUsesSlirpFieldNames() throws {
        let data = try JSONEncoder().encode(Self.forward)
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["id", "proto", "host_addr", "host_port", "guest_addr", "guest_port"])
        let list = try #require(try json(Array(Self.realList.utf8))["entries"] as? [Any])
        let entry = try #require(list.first)
        let roundTrip = try JSONDecoder().decode(HostForward.self, from: JSONSerialization.data(withJSONObject: entry))
        #expect(roundTrip == Self.forward)
    }
}

/// `slirpmon fwd add` takes Podman's -p syntax and must refuse, before sending anything,
/// whatever slirp4netns cannot do.
@Suite("Port mappings in Podman -p syntax")
struct PortMappingTests {
    private func refusal(_ text: String) -> String? {
        do { _ = try PortMapping.parse(text); return nil } catch { return error.message }
    }

    @Test func simpleMapping() throws {
        let m = try PortMapping.parse("8080:80")
        #expect(m.hostAddr == IPv4Address(0))
        #expect(m.hostPorts == 8080...8080)
        #expect(m.guestPorts == 80...80)
        #expect(m.protocols == [.tcp])
        #expect(m.requests() == [ForwardRequest(proto: .tcp, hostPort: Port(8080)!, guestPort: Port(80)!)])
    }

    @Test func hostAddressAndGuestAddress() throws {
        let m = try PortMapping.parse("127.0.0.1:18081:80")
        #expect(m.hostAddr.description == "127.0.0.1")
        let requests = m.requests(guestAddr: IPv4Address(10, 0, 2, 100))
        #expect(requests.count == 1)
        #expect(requests[0].summary == "tcp 127.0.0.1:18081 -> 10.0.2.100:80")
        #expect(try PortMapping.parse(":8080:80").hostAddr == IPv4Address(0))
    }

    @Test func rangesExpandPortByPort() throws {
        let m = try PortMapping.parse("8000-8002:9000-9002/udp")
        #expect(m.requestCount == 3)
        #expect(m.requests().map(\.summary) == ["udp 0.0.0.0:8000 -> :9000", "udp 0.0.0.0:8001 -> :9001", "udp 0.0.0.0:8002 -> :9002"])
    }

    @Test func bothProtocols() throws {
        let m = try PortMapping.parse("10.0.0.5:53:53/tcp,udp")
        #expect(m.protocols == [.tcp, .udp])
        #expect(m.requests().map(\.summary) == ["tcp 10.0.0.5:53 -> :53", "udp 10.0.0.5:53 -> :53"])
        #expect(try PortMapping.parse("53:53/udp,tcp,udp").protocols == [.udp, .tcp])
        #expect(try PortMapping.parse("80:80/tcp").protocols == [.tcp])
        #expect(try PortMapping.parse("65535:1").requests().first?.hostPort.value == 65535)
    }

    @Test func everyMessageNamesTheMapping() throws {
        let text = try #require(refusal("0:80"))
        #expect(text.hasPrefix(#"invalid port mapping "0:80": "#))
    }

    @Test(arguments: [("0:80", "0"), ("65536:80", "65536"), ("70000:80", "70000"), ("80:0", "0"), ("8080:65536", "65536")])
    func portsOutOfRange(text: String, port: String) throws {
        let message = try #require(refusal(text))
        #expect(message.contains("\(port) is out of range"))
        #expect(message.contains("1-65535"))
    }

    @Test func negativeAndNonNumericPorts() throws {
        for text in ["-1:80", "80:-1", "http:80", "80:http", "1e3:80", "+80:80", "8080:", "123456:80", "8000-8002-8004:80", "80-:80", "-:80"] {
            let message = try #require(refusal(text), "\(text) accepted")
            #expect(message.contains("is not a port"), "\(text): \(message)")
        }
    }

    @Test func reversedRange() throws {
        let message = try #require(refusal("8002-8000:80-82"))
        #expect(message.contains("reversed"))
        #expect(message.contains("8000-8002"))
    }

    @Test func rangesOfDifferentLengths() throws {
        let message = try #require(refusal("8000-8002:80-81"))
        #expect(message.contains("same length"))
        #expect(message.contains("3 ports"))
        #expect(refusal("8000-8002:80") != nil)
    }

    @Test func onlyTCPAndUDP() throws {
        let message = try #require(refusal("8080:80/sctp"))
        #expect(message.contains("sctp"))
        #expect(message.contains("tcp or udp"))
        #expect(refusal("8080:80/") != nil)
        #expect(refusal("8080:80/tcp,") != nil)
    }

    @Test func ipv6HostAddressesAreRefused() throws {
        for text in ["[::1]:80:80", "::1:80:80", "[fd00::1]:8080:80/udp"] {
            let message = try #require(refusal(text), "\(text) accepted")
            #expect(message.contains("IPv6"), "\(text): \(message)")
        }
    }

    @Test func tooManyPartsIsNotCalledIPv6() throws {
        let message = try #require(refusal("1.2.3.4:80:80:80"))
        #expect(message.contains("too many"))
        #expect(!message.contains("IPv6"))
        #expect(try #require(refusal("fd00::5:80:80")).contains("IPv6"))
    }

    @Test func hostnamesAreRefused() throws {
        let message = try #require(refusal("localhost:80:80"))
        #expect(message.contains("not an IPv4 address"))
        #expect(message.contains("hostnames"))
        #expect(refusal("256.0.0.1:80:80") != nil)
    }

    @Test func hostPortIsRequired() throws {
        let message = try #require(refusal("80"))
        #expect(message.contains("host port is required"))
        #expect(try #require(refusal(":80")).contains("host port is required"))
        #expect(try #require(refusal("127.0.0.1::80")).contains("host port is required"))
    }

    @Test func injectionAndOddInputIsRefused() throws {
        // Nothing that could change the JSON request or span lines gets through.
        let newline = try #require(refusal("8080:80\n{\"execute\":\"remove_hostfwd\"}"))
        #expect(newline.contains("printable ASCII"))
        #expect(try #require(refusal("8080:80 ")).contains("printable ASCII"))
        #expect(try #require(refusal("8080:80\u{0}")).contains("printable ASCII"))
        #expect(try #require(refusal("8080:８０")).contains("printable ASCII"))
        let quoted = try #require(refusal(#"8080:80","host_addr":"0.0.0.0"#))
        #expect(quoted.contains(#"\""#), "the mapping is quoted with its quotes escaped")
        #expect(refusal(#"1.2.3.4":80:80"#) != nil)
        let long = try #require(refusal(String(repeating: "1", count: 10_000) + ":80"))
        #expect(long.contains("is not a port"))
        #expect(try #require(refusal("")).contains("empty"))
    }
}

/// The everyday list reply is read by a quick reader (no JSON tree); it must agree with the
/// whole-tree decoder on what it accepts, and leave everything else to it.
@Suite("API replies: the quick list reader")
struct QuickListReplyTests {
    static let five = "{\"entries\":[" + (1...5).map { i in
        "{\"id\":\(i),\"proto\":\"\(i == 3 ? "udp" : "tcp")\",\"host_addr\":\"127.0.0.1\",\"host_port\":\(20000 + i),\"guest_addr\":\"10.0.2.100\",\"guest_port\":\(80 + i)}"
    }.joined(separator: ",") + "]}"

    static let accepted = [
        five,
        "{\"entries\":[]}",
        " {\n \"entries\" : [ { \"guest_port\" : 80 , \"proto\" : \"tcp\", \"id\" : 7, \"host_addr\" : \"\", \"guest_addr\" : \"10.0.2.100\", \"host_port\" : 0 } ] }\n",
        "{\"entries\":[{\"id\":-0,\"proto\":\"tcp\",\"host_addr\":\"a\\u0001b\",\"host_port\":1,\"guest_addr\":\"é\",\"guest_port\":2}]}".replacingOccurrences(of: "\\u0001", with: "x"),
    ]

    @Test(arguments: accepted)
    func agreesWithTheWholeTree(reply: String) throws {
        let bytes = Array(reply.utf8)
        let quick = try #require(APIMessage.quickEntries(bytes))
        #expect(try APIMessage.decodeWhole(bytes) == .entries(quick))
        #expect(try APIMessage.decode(bytes) == .entries(quick))
    }

    @Test func readsTheFiveForwardsOfARealReply() throws {
        let entries = try #require(APIMessage.quickEntries(Array(Self.five.utf8)))
        #expect(entries.count == 5)
        #expect(entries[2] == HostForward(id: 3, proto: .udp, hostAddr: "127.0.0.1", hostPort: 20003, guestAddr: "10.0.2.100", guestPort: 83))
    }

    static let declined = [
        "{\"return\":{\"entries\":[]}}", // the man page's wrapping
        "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"a\\\"b\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}", // an escape
        "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"\u{1B}[2J\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}", // a raw control byte
        "{\"entries\":[{\"id\":1,\"id\":2,\"proto\":\"tcp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}", // twice
        "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2,\"new\":1}]}", // unknown
        "{\"entries\":[{\"id\":1.0,\"proto\":\"tcp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}", // a fraction
        "{\"entries\":[{\"id\":01,\"proto\":\"tcp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}", // a leading zero
        "{\"entries\":[{\"id\":1,\"proto\":\"tcp\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}", // host_addr missing
        "{\"entries\":[{\"id\":1,\"proto\":\"sctp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}",
        "{\"entries\":[{\"id\":1234567890123456789,\"proto\":\"tcp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}",
        // 45 digits (the fuzzer's find: the quick reader trapped on the overflow)
        "{\"entries\":[{\"id\":444444444444444444444444444444444444444444441,\"proto\":\"tcp\",\"host_addr\":\"a\",\"host_port\":1,\"guest_addr\":\"x\",\"guest_port\":2}]}",
        "{\"entries\":[]}x", "{\"entries\":[],}", "{\"entries\":[{}]}", "{\"entries\":{}}", "{\"error\":{\"desc\":\"x\"}}", "", "[]",
    ]

    @Test(arguments: declined)
    func leavesOtherRepliesToTheWholeTree(reply: String) {
        #expect(APIMessage.quickEntries(Array(reply.utf8)) == nil)
        let bytes = Array(reply.utf8)
        #expect((try? APIMessage.decode(bytes)) == (try? APIMessage.decodeWhole(bytes)))
    }
}

import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// Every argument of every command that touches an instance, with invalid, boundary and
/// hostile values: one clear line, the documented exit status, and nothing reaches slirp4netns.
@Suite("Bad input, every argument", .enabled(if: isRoot, "needs root for ip netns"))
struct BadInputTableTests {
    static let long = String(repeating: "9", count: 10_000)
    static let json = #"8080:80","execute":"remove_hostfwd","arguments":{"id":1}}"#

    /// (arguments with PID for the instance, expected status, words the error must contain).
    static func cases(_ pid: String, _ port: Int) -> [([String], Int32, String)] {
        let p = String(port)
        var table: [([String], Int32, String)] = []
        // MAPPING: every part, out of range, reversed, different lengths, wrong family, hostile text.
        let mappings: [(String, String)] = [
            ("0:80", "out of range"), ("\(p):0", "out of range"), ("65536:80", "out of range"), ("\(p):65536", "out of range"),
            ("-1:80", ""), ("\(p):-1", ""), ("99999999999999999999:80", "1-65535"), ("\(p):1e3", ""), ("0x50:80", ""),
            ("\(port + 1)-\(p):80-81", "reversed"), ("\(p)-\(port + 2):80-81", "same length"), ("\(p):81-80", "reversed"),
            ("\(p)-\(port + 1):80", ""), ("1-65535:1-65534", "same length"),
            ("\(p):80/sctp", "tcp or udp"), ("\(p):80/", "tcp or udp"), ("\(p):80/tcp/udp", "tcp or udp"), ("\(p):80/TCP,icmp", "tcp or udp"),
            ("[::1]:\(p):80", "IPv6"), ("::1:\(p):80", ""), ("fd00::1:\(p):80", ""), ("localhost:\(p):80", "IPv4"),
            ("example.com:\(p):80", "IPv4"), ("127.0.0.256:\(p):80", "IPv4"), ("127.0.0:\(p):80", "IPv4"), ("127.000.0.1:\(p):80", ""),
            (" 127.0.0.1:\(p):80", ""), ("127.0.0.1 :\(p):80", ""), ("1.2.3.4:5:\(p):80", ""),
            ("80", "host port is required"), (":80", ""), ("\(p):", ""), ("::", ""), ("", ""), ("/tcp", ""),
            (json, ""), ("\(p):80\n{\"execute\":\"list_hostfwd\"}", ""), ("\(p):80\r", ""), ("\(p):80\u{1B}[2J", ""),
            ("\(p)\u{0660}:80", ""), ("\(p):８０", ""), (long + ":80", ""), ("\(p):" + long, ""), ("127.0.0.1:" + long, ""),
        ]
        for (mapping, words) in mappings { table.append((["fwd", "add", pid, mapping], 2, words)) }
        // --guest-addr
        for guest in ["fd00::100", "10.0.2", "10.0.2.100.1", "10.0.2.256", "-1", "localhost", "10.0.2.100/24", "", " 10.0.2.100", long, "10.0.2.100\"}"] {
            table.append((["fwd", "add", pid, "127.0.0.1:\(p):80", "--guest-addr", guest], 2, ""))
        }
        // --timeout (every command that has it)
        for timeout in ["0", "-1", "nan", "inf", "-inf", "601", "1e300", "abc", "", long] {
            table.append((["fwd", "add", pid, "127.0.0.1:\(p):80", "--timeout", timeout], 2, ""))
            table.append((["fwd", "rm", pid, "1", "--timeout", timeout], 2, ""))
            table.append((["fwd", "list", pid, "--timeout", timeout], 2, ""))
        }
        // fwd rm IDs
        for id in ["one", "0x1", "1.5", "-1", "99999999999999999999", "9223372036854775808", "1,2", "all,1", "", "1 2", "1\n2", long, "١"] {
            table.append((["fwd", "rm", pid, id], 2, ""))
        }
        // TARGET: not an instance (exit 1, the running instances are named)
        // "0" is no PID, yet a prefix of any container ID that starts with 0 (another suite's
        // container may): then it names that container's state, still an error, nothing sent.
        table.append((["fwd", "add", "0", "127.0.0.1:\(p):80"], 1, ""))
        table.append((["fwd", "rm", "0", "all"], 1, ""))
        for target in ["999999999", "99999999999999999999", "'; rm -rf /", "../../etc", "\u{1B}[2J", long, "ffffffffffffffffffff"] {
            table.append((["fwd", "add", target, "127.0.0.1:\(p):80"], 1, "no slirp4netns instance matches"))
            table.append((["fwd", "rm", target, "all"], 1, "no slirp4netns instance matches"))
        }
        table.append((["fwd", "add", pid], 2, ""))
        table.append((["fwd", "rm", pid], 2, ""))
        // log --bytes, monitor -d, addr --cidr, doctor --timeout
        for bytes in ["0", "-1", "abc", "99999999999999999999", "1.5", ""] { table.append((["log", pid, "--bytes", bytes], 2, "")) }
        for delay in ["0", "0.01", "-1", "nan", "inf", "3601", "abc", ""] { table.append((["-d", delay], 2, "")) }
        for cidr in ["10.0.2.0/33", "10.0.2.0/-1", "fd00::/64", "10.0.2.0", "10.0.2.0/ 24", "10.0.2.0/24/24", "", long, "10.0.2.0/+24"] {
            table.append((["addr", "--cidr", cidr], 2, ""))
        }
        for timeout in ["0", "-1", "nan", "inf", "abc"] { table.append((["doctor", "--no-trial", "--timeout", timeout], 2, "")) }
        table.append((["--frobnicate"], 2, ""))
        table.append((["fwd", "frob"], 2, ""))
        return table
    }

    @Test("every argument with invalid, boundary and hostile values: a clear error, nothing sent")
    func everyArgument() throws {
        let lab = try TestLab("badall")
        let instance = try lab.start(.init(name: "b"))
        let pid = String(instance.pid)
        let port = Int(try DemoFleet.freeTCPPort().value)
        // Other tests may list every instance's forwards meanwhile: only changes must never arrive.
        let changes = { apiRequests(pid: instance.pid).filter { !$0.contains("list_hostfwd") } }
        let cases = Self.cases(pid, port)
        var failures: [String] = []
        for (args, status, words) in cases {
            let out = slirpmon(args, timeout: 30)
            let shown = args.map { $0.count > 40 ? String($0.prefix(20)) + "...(\($0.count))" : $0 }.joined(separator: " ").debugDescription
            if out.status != status { failures.append("\(shown): status \(out.status), expected \(status): \(out.stderr.prefix(300))") }
            if !words.isEmpty && !out.stderr.contains(words) { failures.append("\(shown): no \"\(words)\" in \(out.stderr.prefix(300))") }
            let lines = out.stderr.split(separator: "\n")
            if lines.count != 1 { failures.append("\(shown): \(lines.count) lines on stderr: \(out.stderr.prefix(300))") }
            if out.stderr.utf8.count > 600 { failures.append("\(shown): \(out.stderr.utf8.count) bytes of error (the input echoed whole?)") }
            if out.stderr.utf8.contains(0x1B) { failures.append("\(shown): an escape sequence on stderr") }
            if out.stderr.contains("Fatal error") { failures.append("\(shown): crashed") }
        }
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) of \(cases.count) cases:\n" + failures.joined(separator: "\n")))
        #expect(changes().isEmpty, "an add or remove request reached slirp4netns: \(changes())")
        #expect(tcpRoundTrip(port: port, timeout: 1) == nil, "the port was forwarded")
        print("bad input: \(cases.count) CLI cases, \(failures.count) failed")
    }
}

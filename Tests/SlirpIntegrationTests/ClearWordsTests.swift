import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// Bad input as an operator types it, to the real binary: the error names the value that was
/// given (never "Missing value" for a value that is there), says what is allowed truly, and is
/// one line on stderr with nothing on stdout.
@Suite("Clear words for bad input", .enabled(if: isRoot, "needs root for ip netns"))
struct ClearWordsTests {
    /// (arguments, exit status, words the one line on stderr must contain).
    static func cases(_ pid: String, _ port: Int) -> [([String], Int32, [String])] {
        let p = String(port)
        return [
            // A value that begins with "-" is a value: it is named, with what is allowed.
            (["fwd", "add", pid, "-80:80"], 2, [#"invalid port mapping "-80:80""#, "ports 1-65535"]),
            (["fwd", "add", pid, "127.0.0.1:\(p):80", "-80:80"], 2, [#""-80:80""#, "ports 1-65535"]),
            (["fwd", "add", pid, "127.0.0.1:\(p):-80"], 2, [#"container port "-80""#]),
            (["fwd", "rm", pid, "-1"], 2, [#""-1" is not a forward id"#]),
            (["fwd", "rm", pid, "1", "-1", "--json"], 2, [#""-1" is not a forward id"#]),
            (["log", pid, "--bytes", "-5"], 2, ["--bytes must be from 1 to 1073741824 (1 GiB), got -5"]),
            (["log", pid, "--bytes=-5"], 2, ["--bytes must be from 1 to 1073741824 (1 GiB), got -5"]),
            (["-d", "-1"], 2, ["--delay must be from 0.1 to 3600 seconds, got -1"]),
            (["--delay", "-0.5"], 2, ["--delay must be from 0.1 to 3600 seconds, got -0.5"]),
            (["demo", "-d", "-1"], 2, ["--delay must be from 0.1 to 3600 seconds, got -1"]),
            (["fwd", "list", pid, "--timeout", "-1"], 2, ["--timeout must be more than 0 and at most 600 seconds, got -1"]),
            (["fwd", "add", pid, "127.0.0.1:\(p):80", "--timeout", "-1"], 2, ["got -1"]),
            (["fwd", "rm", pid, "1", "--timeout", "-1"], 2, ["got -1"]),
            (["show", pid, "--timeout", "-1"], 2, ["got -1"]),
            (["list", "--timeout", "-1"], 2, ["--timeout must be more than 0 and at most 600 seconds, got -1"]),
            (["doctor", "--no-trial", "--timeout", "-1"], 2, ["--timeout must be more than 0 and at most 600 seconds, got -1"]),
            (["fwd", "add", pid, "127.0.0.1:\(p):80", "--guest-addr", "-1"], 2, [#"--guest-addr "-1" is not an IPv4 address"#]),
            (["addr", "--cidr", "-1"], 2, [#"invalid cidr "-1""#]),
            // A TARGET given as a negative number: ArgumentParser has no TARGET then, and says so no more.
            (["show", "-5"], 2, [#""-5" is not a TARGET"#]),
            (["log", "-5"], 2, [#""-5" is not a TARGET"#]),
            (["fwd", "list", "-5"], 2, [#""-5" is not a TARGET"#]),
            (["fwd", "add", "-5", "127.0.0.1:\(p):80"], 2, [#""-5" is not a TARGET"#]),
            (["fwd", "rm", "-5", "1"], 2, [#""-5" is not a TARGET"#]),
            (["fwd", "add", pid], 2, ["Missing expected argument '<mappings> ...'"]),
            // No TARGET, and a negative option value: the value is the option's, not a TARGET.
            (["show", "--timeout", "-1"], 2, ["Missing expected argument '<target>'"]),
            (["log", "--bytes", "-5"], 2, ["Missing expected argument '<target>'"]),
            // An option slirpmon does not know, among the mappings or ids, is still one.
            (["fwd", "add", pid, "--jsn", "127.0.0.1:\(p):80"], 2, [#"unknown option "--jsn""#]),
            (["fwd", "rm", pid, "1", "-x"], 2, [#"unknown option "-x""#]),
            // The range words say what is allowed, and the number as it was written.
            (["fwd", "list", pid, "--timeout", "0"], 2, ["--timeout must be more than 0 and at most 600 seconds, got 0"]),
            (["fwd", "list", pid, "--timeout", "0.0"], 2, ["got 0.0"]),
            (["fwd", "list", pid, "--timeout", "601"], 2, ["got 601"]),
            (["list", "--timeout", "0"], 2, ["--timeout must be more than 0 and at most 600 seconds, got 0"]),
            (["doctor", "--no-trial", "--timeout", "0"], 2, ["--timeout must be more than 0 and at most 600 seconds, got 0"]),
            (["-d", "0"], 2, ["--delay must be from 0.1 to 3600 seconds, got 0"]),
            (["-d", "1e-3"], 2, ["got 1e-3"]),
            (["log", pid, "--bytes", "0"], 2, ["got 0"]),
            // addr refuses what slirp4netns refuses, in the doctor's words; Podman's errors go to stderr.
            (["addr", "--cidr", "10.0.2.1/24"], 2, ["the cidr has host bits set: slirp4netns wants the network address", "use --cidr 10.0.2.0/24"]),
            (["addr", "--cidr", "10.99.128.7/17", "--json"], 2, ["host bits set", "use --cidr 10.99.128.0/17"]),
            (["addr", "--cidr", "0.0.0.0/0"], 2, ["prefix length must be 1-25"]),
            (["addr", "--cidr", "10.0.2.0/31"], 1, ["calculated ip address 10.0.2.100 is not within given subnet 10.0.2.0/31"]),
            (["addr", "--cidr", "10.0.2.0/26"], 1, ["calculated ip address 10.0.2.100 is not within given subnet 10.0.2.0/26"]),
            // Forward ids start at 1: 0 is refused before anything is sent, alone or among others.
            (["fwd", "rm", pid, "0"], 2, ["0 is not a forward id: slirp4netns numbers forwards from 1"]),
            (["fwd", "rm", pid, "1", "0", "--json"], 2, ["0 is not a forward id: slirp4netns numbers forwards from 1"]),
            // An option with one value given twice: the first value is not dropped silently.
            (["fwd", "add", pid, "127.0.0.1:\(p):80", "--guest-addr", "10.0.2.100", "--guest-addr", "10.0.2.101"], 2,
             [#"--guest-addr is given twice, "10.0.2.100" and "10.0.2.101": give it once"#]),
            (["fwd", "add", pid, "127.0.0.1:\(p):80", "--guest-addr=10.0.2.100", "--guest-addr", "10.0.2.99"], 2, ["--guest-addr is given twice"]),
            (["fwd", "list", pid, "--timeout", "1", "--timeout=5"], 2, [#"--timeout is given twice, "1" and "5""#]),
            (["-d", "1", "--delay", "2"], 2, ["--delay is given twice"]),
            // A value that is no number of the kind gets the range words, not the parser's "is invalid".
            (["log", pid, "--bytes", "1.5"], 2, ["--bytes must be from 1 to 1073741824 (1 GiB), got 1.5"]),
            (["fwd", "list", pid, "--timeout", "abc"], 2, ["--timeout must be more than 0 and at most 600 seconds, got abc"]),
            (["-d", "x"], 2, ["--delay must be from 0.1 to 3600 seconds, got x"]),
            (["doctor", "--no-trial", "--timeout", "1s"], 2, ["--timeout must be more than 0 and at most 600 seconds, got 1s"]),
            // An unknown option among mappings or ids still gets the parser's suggestion.
            (["fwd", "add", pid, "--jsn", "127.0.0.1:\(p):80"], 2, [#"unknown option "--jsn"; did you mean "--json"?"#]),
            (["fwd", "rm", pid, "1", "--unverifed"], 2, [#"did you mean "--unverified"?"#]),
            (["fwd", "add", pid, "127.0.0.1:\(p):80", "--guest-adr", "10.0.2.100"], 2, [#"did you mean "--guest-addr"?"#]),
            // The doctor takes a container: a slirp4netns PID gets what to run instead, not Podman's "no such container".
            (["doctor", pid], 2, ["\(pid) is the PID of a running slirp4netns, not a container: the doctor examines a container", "`slirpmon show pid:\(pid)`"]),
            (["doctor", "pid:\(pid)"], 2, ["the doctor examines a container (its name or ID", "`slirpmon show pid:\(pid)`"]),
        ]
    }

    @Test("a value that begins with '-', a zero timeout, a cidr slirp4netns refuses: each named in one line on stderr, nothing on stdout, nothing sent")
    func everyValueIsNamed() throws {
        let lab = try TestLab("words")
        let instance = try lab.start(.init(name: "w"))
        let port = Int(try DemoFleet.freeTCPPort().value)
        let changes = { apiRequests(pid: instance.pid).filter { !$0.contains("list_hostfwd") } }
        var failures: [String] = []
        for (args, status, words) in Self.cases(String(instance.pid), port) {
            let out = slirpmon(args, timeout: 30)
            let shown = args.joined(separator: " ")
            if out.status != status { failures.append("\(shown): status \(out.status), expected \(status): \(out.stderr)") }
            for word in words where !out.stderr.contains(word) { failures.append("\(shown): no \(word.debugDescription) in \(out.stderr)") }
            if out.stderr.contains("Missing") && !words.contains(where: { $0.hasPrefix("Missing") }) {
                failures.append("\(shown): says a value is missing: \(out.stderr)")
            }
            if out.stderr.split(separator: "\n").count != 1 { failures.append("\(shown): not one line on stderr: \(out.stderr)") }
            // `addr --json` keeps its documented shape (with `errors`) for Podman's own errors only.
            let jsonResult = args.contains("--json") && status == 1
            if !out.stdout.isEmpty && !jsonResult { failures.append("\(shown): stdout is not empty: \(out.stdout)") }
        }
        #expect(failures.isEmpty, Comment(rawValue: failures.joined(separator: "\n")))
        #expect(changes().isEmpty, "an add or remove request reached slirp4netns: \(changes())")
    }

    @Test("mappings and ids read as before: options among them, before them and after them, and after --")
    func optionsStillReadAmongMappingsAndIDs() throws {
        let lab = try TestLab("wordsok")
        let pid = String(try lab.start(.init(name: "o")).pid)
        let a = try DemoFleet.freeTCPPort().value
        let added = slirpmon(["fwd", "add", "--json", pid, "127.0.0.1:\(a):80", "--timeout", "5"])
        #expect(added.status == 0, "\(added.stderr)")
        let ids = ((try? JSONSerialization.jsonObject(with: Data(added.stdout.utf8))) as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
        #expect(ids.count == 1, "\(added.stdout)")
        // A second port, taken after the first is held by slirp4netns (never the same one).
        let plain = slirpmon(["fwd", "add", pid, "--", "127.0.0.1:\(try DemoFleet.freeTCPPort().value):80"])
        #expect(plain.status == 0 && plain.stdout.hasPrefix("added ["), "\(plain.stdout)\(plain.stderr)")
        let removed = slirpmon(["fwd", "rm", pid, "--json", String(ids.first ?? 0), "--timeout", "5"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.contains("\"removed\""), "\(removed.stdout)")
        let rest = slirpmon(["fwd", "rm", pid, "--", "all"])
        #expect(rest.status == 0 && rest.stdout.hasPrefix("removed "), "\(rest.stdout)\(rest.stderr)")
        // An id the instance does not have: the command that lists them is written with this TARGET.
        let unknown = slirpmon(["fwd", "rm", pid, "9"])
        #expect(unknown.status == 1, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("no forward has that id; `slirpmon fwd list \(pid)` shows the ids"), "\(unknown.stderr)")
    }

    /// The cidrs written right after each `option` in `text` (the value given is quoted: not taken).
    static func suggested(in text: String, option: String) -> [String] {
        text.components(separatedBy: option).dropFirst().compactMap { rest in
            let value = String(rest.prefix { $0.isNumber || $0 == "." || $0 == "/" })
            return value.isEmpty ? nil : value
        }
    }

    @Test("a cidr refused with host bits set or a prefix length outside 1-25 is answered with a cidr addr and slirp4netns itself accept (10.0.2.0/0 never suggests 0.0.0.0/0, 10.0.2.1/30 never 10.0.2.0/30)")
    func everySuggestedCidrIsAccepted() throws {
        // slirp4netns reads its options before the namespace: an accepted cidr fails on the PID, above any pid_max.
        func slirpAccepts(_ cidr: String) -> (Bool, String) {
            let out = sh("slirp4netns", ["--cidr=\(cidr)", "2147483647", "tap0"], timeout: 10)
            return (out.stderr.contains("/proc/2147483647/ns/net") && !out.stderr.contains("prefix length") && !out.stderr.contains("CIDR needs"), out.stderr)
        }
        try #require(Executables.find("slirp4netns") != nil, "slirp4netns is not installed")
        #expect(!slirpAccepts("10.0.2.0/30").0 && !slirpAccepts("10.0.2.1/24").0, "slirp4netns refuses both (the check itself works)")
        var failures: [String] = []
        for refused in ["10.0.2.0/0", "10.0.2.1/0", "0.0.0.0/0", "10.0.2.1/30", "10.0.2.65/26", "10.0.2.1/24", "10.99.128.7/17", "10.0.2.1/25"] {
            let addr = slirpmon(["addr", "--cidr", refused])
            if addr.status == 0 { failures.append("addr --cidr \(refused) was accepted: \(addr.stdout)") }
            var offered = Self.suggested(in: addr.stderr, option: "--cidr ").map { ("addr --cidr \(refused)", $0) }
            for cause in [FailureCause.cidrNotNetworkAddress(refused, evidence: nil), FailureCause.cidrPrefixLength(refused, evidence: nil)] {
                let found = Self.suggested(in: cause.fix, option: "cidr=")
                if found.isEmpty { failures.append("the doctor's \(cause.kind.rawValue) fix for \(refused) names no cidr: \(cause.fix)") }
                offered += found.map { ("the doctor's \(cause.kind.rawValue) fix for \(refused)", $0) }
            }
            for (source, cidr) in offered {
                let again = slirpmon(["addr", "--cidr", cidr])
                if again.status != 0 { failures.append("\(source) suggests \(cidr), which addr refuses: \(again.stderr)") }
                let (accepted, said) = slirpAccepts(cidr)
                if !accepted { failures.append("\(source) suggests \(cidr), which slirp4netns refuses: \(said)") }
            }
        }
        #expect(failures.isEmpty, Comment(rawValue: failures.joined(separator: "\n")))
        let zero = slirpmon(["addr", "--cidr", "10.0.2.0/0"])
        #expect(zero.status == 2 && zero.stderr.contains("prefix length must be 1-25") && zero.stderr.contains("--cidr 10.0.2.0/24"), "\(zero.stderr)")
        let small = slirpmon(["addr", "--cidr", "10.0.2.1/30"])
        #expect(small.status == 1 && small.stderr.contains("is not within given subnet 10.0.2.0/30"), "Podman's own refusal: \(small.stderr)")
    }

    @Test("addr --cidr with host bits set is refused as slirp4netns refuses it, in the doctor's words")
    func hostBitsAreRefusedAsSlirpAndTheDoctorDo() throws {
        // slirp4netns itself, here: it refuses the cidr before it starts anything.
        let ns = "smt-words-\(getpid())"
        #expect(sh("ip", ["netns", "add", ns]).status == 0)
        defer { _ = sh("ip", ["netns", "delete", ns]) }
        let slirp = sh("slirp4netns", ["--configure", "--cidr=10.0.2.1/24", "--netns-type=path", "/run/netns/\(ns)", "tap0"], timeout: 10)
        #expect(slirp.status == 1, "slirp4netns accepted 10.0.2.1/24: \(slirp.stderr)")
        #expect(slirp.stderr.contains("CIDR needs to be a network address"), "\(slirp.stderr)")

        // The doctor's trial, and its cause sentence: addr says the same.
        let s = try DoctorScratch("words")
        let (_, json) = s.doctor(["--options", "cidr=10.0.2.1/24"], timeout: 120)
        let verdict = DoctorVerdict(json: json)
        #expect(verdict.kind == "cidr-not-network-address", "\(json)")
        let cause = try #require(verdict.cause?["cause"] as? String, "no cause in \(json)")
        let addr = slirpmon(["addr", "--cidr", "10.0.2.1/24"])
        #expect(addr.status == 2)
        #expect(addr.stdout.isEmpty, "\(addr.stdout)")
        #expect(addr.stderr.contains(cause), "addr: \(addr.stderr); doctor: \(cause)")
        #expect(addr.stderr.contains("10.0.2.0/24"), "suggests the network address: \(addr.stderr)")
    }
}

import Foundation
import Glibc
import SlirpCore
import SlirpTestSupport
import Testing

/// Debian's JSON Schema validator (python3-jsonschema's `/usr/bin/jsonschema`, run by Debian's
/// /usr/bin/python3), checking one output against one `$defs` entry of assets/slirpmon.schema.json.
/// Missing, it fails the test that needs it: assets/setup.sh installs it (assets/requirements.tsv).
final class SchemaValidator {
    static let program = "/usr/bin/jsonschema"
    static var schemaPath: String { packageRoot + "/assets/slirpmon.schema.json" }

    let schema: [String: Any]
    private let directory: String
    private var written: Set<String> = []
    private var count = 0

    struct Failure: Error, CustomStringConvertible { let description: String }

    init() throws {
        guard access(Self.program, X_OK) == 0 else {
            throw Failure(description: "\(Self.program) is missing: bash assets/setup.sh installs python3-jsonschema (assets/requirements.tsv)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.schemaPath))
        guard let schema = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "\(Self.schemaPath) is not a JSON object")
        }
        self.schema = schema
        directory = "/tmp/smt-schema-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The validator answers at all (a broken install fails here, not as a "schema error").
        let smoke = try problems("{\"removed\": [1], \"sent_no_answer\": [], \"not_sent\": []}", as: "fwd_rm")
        guard smoke.isEmpty else { throw Failure(description: "\(Self.program) refuses a valid fwd_rm output: \(smoke)") }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The validator's complaints (`$.path: message`, one per line) about `json` as `$defs/name`; empty when valid.
    func problems(_ json: String, as name: String) throws -> [String] {
        let schemaFile = "\(directory)/\(name).schema.json"
        if !written.contains(name) {
            var wrapper = schema
            wrapper["$ref"] = "#/$defs/\(name)"
            try JSONSerialization.data(withJSONObject: wrapper).write(to: URL(fileURLWithPath: schemaFile))
            written.insert(name)
        }
        count += 1
        let instanceFile = "\(directory)/output-\(count).json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: instanceFile))
        let run = Executables.run(Self.program, ["--error-format", "{error.json_path}: {error.message}\n", "-i", instanceFile, schemaFile], timeout: 60)
        guard case .success(let out) = run else { throw Failure(description: "\(Self.program) did not run: \(run)") }
        let lines = (out.stdout + out.stderr).split(separator: "\n").map { String($0.prefix(300)) }
        if out.status == 0 { return [] }
        // Every complaint starts with its JSON path; anything else (a traceback) is the tool failing.
        guard !lines.isEmpty, lines.allSatisfy({ $0.hasPrefix("$") }) else {
            throw Failure(description: "\(Self.program) failed (status \(out.status)): \(lines.prefix(5).joined(separator: " | "))")
        }
        return lines
    }

    /// Records a test issue unless `output` is a successful run whose stdout is a valid `$defs/name`.
    func expectValid(_ output: Executables.Output, as name: String, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(output.status == 0, "\(what): \(output.stderr)", sourceLocation: sourceLocation)
        let found = try problems(output.stdout, as: name)
        #expect(found.isEmpty, "\(what) is not a valid $defs/\(name):\n\(found.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }
}

@Suite("Every --json output matches assets/slirpmon.schema.json (Debian's jsonschema validates it)",
       .enabled(if: isRoot, "needs root for ip netns"))
struct JSONSchemaTests {
    @Test("the schema is closed: each object names every key in properties and in required, snake_case, and allows no other")
    func schemaIsStrict() throws {
        let validator = try SchemaValidator()
        let defs = try #require(validator.schema["$defs"] as? [String: Any])
        for output in ["list", "show", "fwd_list", "fwd_add", "fwd_rm", "fwd_probe", "addr", "doctor", "dns"] {
            #expect(defs[output] != nil, "no $defs/\(output)")
        }
        // instance_keys is shared by list's instance and show, which close it with unevaluatedProperties.
        for closer in ["instance", "show"] {
            #expect((defs[closer] as? [String: Any])?["unevaluatedProperties"] as? Bool == false, "$defs/\(closer) is not closed")
        }
        var objects = 0
        func walk(_ node: Any, _ path: String) {
            if let list = node as? [Any] { for (i, item) in list.enumerated() { walk(item, "\(path)[\(i)]") } }
            guard let object = node as? [String: Any] else { return }
            if let properties = object["properties"] as? [String: Any] {
                objects += 1
                let keys = Set(properties.keys)
                let required = Set(object["required"] as? [String] ?? [])
                #expect(keys == required, "\(path): properties and required differ by \(keys.symmetricDifference(required).sorted())")
                let closed = object["additionalProperties"] as? Bool == false || object["unevaluatedProperties"] as? Bool == false
                #expect(closed || path == "$defs/instance_keys", "\(path) allows keys it does not name")
                for key in keys where key.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) == nil {
                    Issue.record("\(path): key \(key) is not snake_case")
                }
            }
            // An `if` is a condition (list's rows: which shape by `kind`), not a shape of an output.
            for (key, value) in object where key != "if" { walk(value, path.isEmpty ? key : "\(path)/\(key)") }
        }
        walk(validator.schema, "")
        #expect(objects >= 20, "only \(objects) objects with properties found")
    }

    @Test("a camelCase key, a missing key, a key of show in list or an extra key fails the check (the validator checks, not just parses)")
    func validatorRefusesDrift() throws {
        let validator = try SchemaValidator()
        let lab = try TestLab("jsr")
        let instance = try lab.start(.init(name: "r"))
        let show = slirpmon(["show", String(instance.pid), "--json"])
        try validator.expectValid(show, as: "show", "show --json")
        let text = show.stdout
        func without(_ key: String, in text: String) throws -> String {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let index = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\"\(key)\" :") }, "no \(key) in \(text)")
            lines.remove(at: index)
            return lines.joined(separator: "\n")
        }
        // Each drift must be named: the key, and whether it is missing or unexpected (a message may name several keys).
        let drifts: [(String, String, String, String)] = [
            ("observed.interface_present spelled interfacePresent", text.replacingOccurrences(of: "\"interface_present\"", with: "\"interfacePresent\""), "'interfacePresent'", "unexpected"),
            ("an address row without its note", try without("note", in: text), "'note'", "is a required property"),
            ("no log_error", try without("log_error", in: text), "'log_error'", "is a required property"),
            ("no forward_count", try without("forward_count", in: text), "'forward_count'", "is a required property"),
            ("an extra key", text.replacingOccurrences(of: "\"kind\" : \"instance\"", with: "\"kind\" : \"instance\", \"extraKey\" : 1"), "'extraKey'", "unexpected"),
        ]
        for (what, json, key, complaint) in drifts {
            #expect(json != text, "\(what): nothing changed")
            let found = try validator.problems(json, as: "show")
            #expect(found.contains { $0.contains(key) && $0.contains(complaint) }, "\(what): expected \(key) \(complaint), got \(found)")
        }
        let list = slirpmon(["list", "--json", "--no-podman"]).stdout
        let withDetail = list.replacingOccurrences(of: "\"kind\" : \"instance\"", with: "\"kind\" : \"instance\", \"arguments\" : null")
        #expect(try validator.problems(withDetail, as: "list").contains { $0.contains("'arguments'") && $0.contains("unexpected") }, "a show key in a list row")
    }

    @Test("list, show, fwd list/add/rm, addr and doctor of hand-started and defunct instances match the schema; errors are not JSON")
    func handStartedOutputs() throws {
        let validator = try SchemaValidator()
        let lab = try TestLab("jsh")
        let port = try DemoFleet.freeTCPPort()
        let full = try lab.start(.init(name: "f", cidr: "10.99.128.0/17", ipv6: true,
                                       forwards: [ForwardRequest(proto: .tcp, hostAddr: IPv4Address(127, 0, 0, 1), hostPort: port, guestPort: Port(80)!)]))
        let bare = try lab.start(.init(name: "b", apiSocket: false))
        // A failed start not reaped yet (`[slirp4netns] <defunct>`): a row with almost nothing to read.
        let real = try #require(Executables.find("slirp4netns"))
        let zombie = try Executables.spawn(real, ["--mtu=65530", "1", "tap0"]).get()
        defer { Executables.waitFor(zombie) }
        #expect(eventually(5) { (try? Files.readText("/proc/\(zombie)/stat"))?.contains(") Z ") == true })

        for args in [["list", "--json"], ["list", "--json", "--no-forwards", "--no-podman"], ["list", "--json", "--no-cache"], ["list", "--json", "--rates", "0.2"]] {
            let list = slirpmon(args)
            try validator.expectValid(list, as: "list", args.joined(separator: " "))
            for pid in [full.pid, bare.pid, zombie] { #expect(list.stdout.contains("\"pid\" : \(pid),"), "\(args): pid \(pid) listed") }
        }
        for (name, pid) in [("with API socket, IPv6 and a forward", full.pid), ("without API socket", bare.pid), ("defunct", zombie)] {
            try validator.expectValid(slirpmon(["show", String(pid), "--json"]), as: "show", "show --json of the instance \(name)")
        }

        let target = String(full.pid)
        try validator.expectValid(slirpmon(["fwd", "list", target, "--json"]), as: "fwd_list", "fwd list --json")
        let added = slirpmon(["fwd", "add", target, "127.0.0.1:\(try DemoFleet.freeTCPPort()):80", "--json"])
        try validator.expectValid(added, as: "fwd_add", "fwd add --json")
        try validator.expectValid(slirpmon(["fwd", "add", target, "127.0.0.1:\(try DemoFleet.freeTCPPort()):81/udp", "--guest-addr", "10.99.128.100", "--json"]),
                                  as: "fwd_add", "fwd add --guest-addr --json")
        let id = try #require((try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? Int)
        try validator.expectValid(slirpmon(["fwd", "rm", target, String(id), "--json"]), as: "fwd_rm", "fwd rm ID --json")
        // Sent to a stopped slirp4netns, unanswered (exit 3): the JSON still says what became of each request.
        kill(full.pid, SIGSTOP)
        let late = try DemoFleet.freeTCPPort()
        let unanswered = slirpmon(["fwd", "add", target, "127.0.0.1:\(late):82", "--json", "--timeout", "1"])
        kill(full.pid, SIGCONT)
        #expect(unanswered.status == 3 && unanswered.stdout.contains("sent_no_answer"), "\(unanswered.status) \(unanswered.stderr)")
        #expect(try validator.problems(unanswered.stdout, as: "fwd_add") == [], "fwd add --json, sent without an answer")
        func lateID() -> Int? {
            (try? JSONDecoder().decode([HostForward].self, from: Data(slirpmon(["fwd", "list", target, "--json"]).stdout.utf8)))?
                .first { $0.hostPort == Int(late.value) }?.id
        }
        #expect(eventually(5) { lateID() != nil }, "carried out once continued")
        let unansweredID = try #require(lateID())
        kill(full.pid, SIGSTOP)
        let unansweredRemoval = slirpmon(["fwd", "rm", target, String(unansweredID), "--json", "--timeout", "1"])
        kill(full.pid, SIGCONT)
        #expect(unansweredRemoval.status == 3, "\(unansweredRemoval.status) \(unansweredRemoval.stderr)")
        #expect(try validator.problems(unansweredRemoval.stdout, as: "fwd_rm") == [], "fwd rm --json, sent without an answer")
        try validator.expectValid(slirpmon(["fwd", "rm", target, "all", "--json"]), as: "fwd_rm", "fwd rm all --json")
        try validator.expectValid(slirpmon(["fwd", "list", target, "--json"]), as: "fwd_list", "fwd list --json, empty")

        try validator.expectValid(slirpmon(["addr", "--json"]), as: "addr", "addr --json")
        try validator.expectValid(slirpmon(["addr", "--cidr", "10.99.128.0/17", "--ipv6", "--json"]), as: "addr", "addr --ipv6 --json")
        // A network too small for Podman's rules: exit 1, the same shape with nulls and errors.
        let tooSmall = slirpmon(["addr", "--cidr", "10.0.2.0/31", "--json"])
        #expect(tooSmall.status == 1)
        #expect(try validator.problems(tooSmall.stdout, as: "addr").isEmpty, "addr --cidr /31 --json: \(tooSmall.stdout)")

        let scratch = try DoctorScratch("schema")
        for args in [["--no-trial"], ["--options", "mtu=65530"], ["--options", "mtu=1500,enable_ipv6=true"]] {
            let (out, _) = scratch.doctor(args, timeout: 120)
            let found = try validator.problems(out.stdout, as: "doctor")
            #expect(!out.stdout.isEmpty && found.isEmpty, "doctor \(args.joined(separator: " ")) --json (status \(out.status), \(out.stderr)):\n\(found.joined(separator: "\n"))")
        }

        // A failure is one line on stderr (status 1 or 2), never a JSON document on stdout.
        let missing = slirpmon(["show", "smt-no-such-target-\(getpid())", "--json"])
        #expect(missing.status == 1 && missing.stdout.isEmpty && missing.stderr.hasPrefix("slirpmon: "), "\(missing)")
    }

    @Test("a Podman container's list and show rows, its forwards, its doctor and a container without slirp4netns match the schema",
          .enabled(if: PodmanFixture.available, "needs root, podman and busybox-static"))
    func podmanOutputs() throws {
        let validator = try SchemaValidator()
        try PodmanFixture.prepare()
        // A web server whose forwards go through the API socket, and a container slirp4netns refused
        // (its MTU is too large): it stays without one, a detached row.
        let (web, bad) = (PodmanFixture.name("jsw"), PodmanFixture.name("jsb"))
        defer { PodmanFixture.podman(["rm", "-f", "-t", "0", web, bad]) }
        let webArguments = ["--network", "slirp4netns:port_handler=slirp4netns", "-p", "127.0.0.1:\(try DemoFleet.freeTCPPort()):80",
                            PodmanFixture.image, "httpd", "-f", "-p", "80", "-h", "/www"]
        let started = PodmanFixture.podman(["run", "-d", "--name", web] + webArguments)
        #expect(started.status == 0, "\(started.stderr)")
        PodmanFixture.podman(["run", "-d", "--name", bad, "--network", "slirp4netns:mtu=65530", PodmanFixture.image, "sleep", "100"])

        let list = slirpmon(["list", "--json"])
        try validator.expectValid(list, as: "list", "list --json with Podman containers")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let names = rows.compactMap { ($0["container"] as? [String: Any])?["name"] as? String }
        #expect(names.contains(web) && names.contains(bad), "both containers listed: \(names)")
        #expect(rows.contains { $0["kind"] as? String == "container-without-slirp4netns" && ($0["container"] as? [String: Any])?["name"] as? String == bad })

        let show = slirpmon(["show", web, "--json"])
        try validator.expectValid(show, as: "show", "show --json of a container")
        #expect(show.stdout.contains("\"persist_command\" : "), "a container's show has persist_command")
        try validator.expectValid(slirpmon(["fwd", "add", web, "127.0.0.1:\(try DemoFleet.freeTCPPort()):80", "--json"]), as: "fwd_add", "fwd add NAME --json")
        try validator.expectValid(slirpmon(["fwd", "list", web, "--json"]), as: "fwd_list", "fwd list NAME --json")
        let kept = slirpmon(["show", web, "--json"])
        try validator.expectValid(kept, as: "show", "show --json with a live-only forward")
        let steps = (try JSONSerialization.jsonObject(with: Data(kept.stdout.utf8)) as? [String: Any])?["persist_steps"] as? [String]
        #expect(steps?.first == "podman rm -f \(web)" && steps?.count == 2, "persist_steps, in order: \(steps ?? [])")
        try validator.expectValid(slirpmon(["doctor", web, "--no-trial", "--json"], timeout: 120), as: "doctor", "doctor NAME --no-trial --json")
        // Its trial fails (exit 1): the same shape, with a verdict.
        let failed = slirpmon(["doctor", bad, "--json"], timeout: 120)
        #expect(failed.status == 1 && failed.stdout.contains("\"mtu-too-large\""), "\(failed)")
        #expect(try validator.problems(failed.stdout, as: "doctor").isEmpty, "doctor of the failed container: \(failed.stdout)")
    }
}

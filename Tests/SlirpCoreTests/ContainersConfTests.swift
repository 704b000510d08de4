import Foundation
import Glibc
@testable import SlirpCore
import Testing

@Suite("containers.conf: the keys that decide how Podman starts slirp4netns")
struct ContainersConfTests {
    @Test("reads the engine keys from a file with other tables, comments and values")
    func readsEngineKeys() throws {
        let text = """
        # a comment
        [containers]
        default_ulimits = [
          "nofile=1024:1024",   # trailing comment
          "nproc=1024:1024",
        ]
        log_size_max = -1
        env = ["PATH=/usr/bin"]
        [network]
        default_subnet_pools = [{"base" = "10.89.0.0/16", "size" = 24}]

        [engine]
        runtime = "runc"
        network_cmd_path = "/opt/slirp/bin/slirp4netns"
        network_cmd_options = ["mtu=1500", 'enable_ipv6=false']
        tmp_dir = "/var/run/libpod"   # comment after a value
        no_pivot_root = true
        [engine.runtimes]
        runc = ["/usr/bin/runc", "/usr/sbin/runc"]
        """
        let conf = try ContainersConf.parse(text, path: "t.conf")
        #expect(conf.networkCommandPath == "/opt/slirp/bin/slirp4netns")
        #expect(conf.networkCommandOptions == ["mtu=1500", "enable_ipv6=false"])
        #expect(conf.tmpDir == "/var/run/libpod")
        #expect(conf.noPivotRoot)
        #expect(conf.origins["network_cmd_path"] == "t.conf")
    }

    @Test("keys outside [engine] do not count; an empty network_cmd_path means PATH")
    func scoping() throws {
        let conf = try ContainersConf.parse("""
        network_cmd_path = "/top/level"
        [containers]
        tmp_dir = "/not/engine"
        [engine]
        network_cmd_path = ""
        """)
        #expect(conf.networkCommandPath == nil)
        #expect(conf.tmpDir == nil)
    }

    @Test("strings: escapes, literal strings, multi-line strings, quoted keys, dotted keys")
    func strings() throws {
        let values = try TOMLSubset.parse(#"""
        [engine]
        a = "tab\there \"q\" \u00e9"
        b = 'C:\no\escapes'
        c = """
        two
        lines"""
        "quoted key" = true
        d.e = false
        """#)
        #expect(values["engine.a"] == .string("tab\there \"q\" é"))
        #expect(values["engine.b"] == .string(#"C:\no\escapes"#))
        #expect(values["engine.c"] == .string("two\nlines"))
        #expect(values["engine.quoted key"] == .bool(true))
        #expect(values["engine.d.e"] == .bool(false))
    }

    @Test("syntax errors name the line, and a wrong type names the key")
    func errors() {
        #expect(throws: TOMLSubset.SyntaxError(line: 2, message: "unterminated string")) {
            try TOMLSubset.parse("[engine]\nnetwork_cmd_path = \"/usr/bin\n")
        }
        #expect(throws: TOMLSubset.SyntaxError.self) { try TOMLSubset.parse("[engine\n") }
        #expect(throws: TOMLSubset.SyntaxError.self) { try TOMLSubset.parse("[engine]\nx = [\"a\" \"b\"]\n") }
        do {
            _ = try ContainersConf.parse("[engine]\nnetwork_cmd_options = \"mtu=1500\"\n", path: "bad.conf")
            Issue.record("a string where an array is needed must fail")
        } catch {
            #expect(error.description.contains("network_cmd_options must be an array of strings"))
            #expect(error.description.contains("bad.conf"))
        }
    }

    @Test("Podman's file order: system, /etc, drop-ins sorted, then the user's; later files win")
    func fileOrder() throws {
        let root = "/tmp/smt-conf-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for dir in ["/usr/share/containers", "/etc/containers/containers.conf.d", "/home/u/.config/containers"] {
            try fm.createDirectory(atPath: root + dir, withIntermediateDirectories: true)
        }
        try Files.write("[engine]\nnetwork_cmd_path = \"/sys/one\"\ntmp_dir = \"/sys/tmp\"\n", to: root + "/usr/share/containers/containers.conf")
        try Files.write("[engine]\nnetwork_cmd_path = \"/etc/two\"\n", to: root + "/etc/containers/containers.conf")
        try Files.write("[engine]\nnetwork_cmd_options = [\"mtu=1400\"]\n", to: root + "/etc/containers/containers.conf.d/20-b.conf")
        try Files.write("[engine]\nnetwork_cmd_options = [\"mtu=1300\"]\n", to: root + "/etc/containers/containers.conf.d/10-a.conf")
        try Files.write("ignored", to: root + "/etc/containers/containers.conf.d/README")
        try Files.write("[engine]\nno_pivot_root = true\n", to: root + "/home/u/.config/containers/containers.conf")

        let asRoot = try ContainersConf.load(environment: ["HOME": root + "/home/u"], isRoot: true, root: root)
        #expect(asRoot.files.map { String($0.dropFirst(root.count)) } == [
            "/usr/share/containers/containers.conf", "/etc/containers/containers.conf",
            "/etc/containers/containers.conf.d/10-a.conf", "/etc/containers/containers.conf.d/20-b.conf"])
        #expect(asRoot.networkCommandPath == "/etc/two")
        #expect(asRoot.networkCommandOptions == ["mtu=1400"])
        #expect(asRoot.tmpDir == "/sys/tmp")
        #expect(!asRoot.noPivotRoot, "root does not read the user's file")

        let asUser = try ContainersConf.load(environment: ["HOME": root + "/home/u"], isRoot: false, root: root)
        #expect(asUser.noPivotRoot)
        let viaXDG = try ContainersConf.load(environment: ["XDG_CONFIG_HOME": root + "/home/u/.config", "HOME": "/nonexistent"], isRoot: false, root: root)
        #expect(viaXDG.noPivotRoot)

        // CONTAINERS_CONF: that file alone.
        let only = root + "/only.conf"
        try Files.write("[engine]\nnetwork_cmd_path = \"/only\"\n", to: only)
        let alone = try ContainersConf.load(environment: ["CONTAINERS_CONF": only], isRoot: true, root: root)
        #expect(alone.files == [only])
        #expect(alone.networkCommandPath == "/only")
        #expect(alone.tmpDir == nil)
        #expect(throws: ContainersConf.LoadError.self) {
            try ContainersConf.load(environment: ["CONTAINERS_CONF": root + "/missing.conf"], isRoot: true, root: root)
        }
    }

    @Test("tmp_dir defaults: /run/libpod for root, XDG_RUNTIME_DIR/libpod/tmp for a user")
    func tmpDirDefaults() {
        let conf = ContainersConf()
        #expect(conf.effectiveTmpDir(environment: [:], isRoot: true, uid: 0) == "/run/libpod")
        #expect(conf.effectiveTmpDir(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"], isRoot: false, uid: 1000) == "/run/user/1000/libpod/tmp")
        #expect(conf.effectiveTmpDir(environment: [:], isRoot: false, uid: 1000) == "/tmp/podman-run-1000/libpod/tmp")
        var set = ContainersConf()
        set.tmpDir = "/x"
        #expect(set.effectiveTmpDir(environment: [:], isRoot: false, uid: 1000) == "/x")
    }
}

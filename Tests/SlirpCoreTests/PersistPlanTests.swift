#if canImport(Glibc)
import Glibc
#endif
@testable import SlirpCore
import Testing

/// The steps that make live forwards permanent, for the shapes a pod takes that the end-to-end
/// tests (`PrintedCommandTests`, which run them with real Podman) do not each create.
@Suite("Persist steps: a pod is removed whole and created again with its members")
struct PersistPlanTests {
    static let podID = "9aab9d4acd8ab66ad48f7b024d200564bc4901282c10b4a868c255683c8e4cdc"
    static let live = [HostForward(id: 2, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18090, guestAddr: "10.0.2.100", guestPort: 80)]

    static func container(_ name: String, infra: Bool = false, create: [String], state: String = "running") -> PodmanContainer {
        PodmanContainer(id: String(repeating: infra ? "a" : "b", count: 64), name: name, image: "bb", state: state, pid: 1,
                        podID: podID, podName: "shop", isInfra: infra,
                        ports: infra ? [PodmanPort(hostIP: "", hostPort: 8080, containerPort: 80, range: 1, proto: "tcp")] : [],
                        createCommand: create, networkMode: infra ? "slirp4netns" : "container:x", ownerUID: 0, ownerName: "root")
    }

    @Test("a pod made by `podman run --pod new:POD` is created again by that command once, not once more as its member")
    func podMadeByItsFirstMemberIsNotCreatedTwice() throws {
        let run = ["podman", "run", "-d", "--pod", "new:shop", "--network", "slirp4netns:port_handler=slirp4netns", "-p", "8080:80", "--name", "web", "bb"]
        let infra = Self.container("9aab9d4acd8a-infra", infra: true, create: run)
        let web = Self.container("web", create: run)
        let db = Self.container("db", create: ["podman", "create", "--pod", "shop", "--name", "db", "bb", "sleep", "9"], state: "created")
        let plan = try #require(PersistPlan(container: infra, members: [web, db], forwards: Self.live, acting: nil))
        #expect(plan.steps == ["podman pod rm -f shop",
                               "podman run -p 127.0.0.1:18090:80/tcp -d --pod new:shop --network slirp4netns:port_handler=slirp4netns -p 8080:80 --name web bb",
                               "podman create --pod shop --name db bb sleep 9"])
        #expect(plan.consequence.hasPrefix("they stop pod shop and create it again with its members web, db:"))
    }

    @Test("a member whose create command Podman did not keep gets a comment that says so, never an invented command")
    func memberWithoutCreateCommandIsNamedNotInvented() throws {
        let infra = Self.container("i", infra: true, create: ["podman", "pod", "create", "--name", "shop", "-p", "8080:80"])
        let plan = try #require(PersistPlan(container: infra, members: [Self.container("kube-made", create: [])], forwards: Self.live, acting: nil))
        #expect(plan.steps.count == 3)
        #expect(plan.steps.last == "# kube-made: Podman kept no create command for it: create it again by hand, with --pod shop")
        #expect(plan.membersWithoutCommand == ["kube-made"])
        #expect(plan.consequence.hasSuffix("; Podman kept no create command for kube-made: the steps do not create it again"), "\(plan.consequence)")
    }

    @Test("a member that joined by the pod's ID (or a prefix of it) joins by name: the pod created again has a new ID")
    func memberJoinedByIDJoinsByName() {
        #expect(PersistPlan.joiningByName(["podman", "create", "--pod", "9aab9d4a", "bb"], pod: "shop", podID: Self.podID)
                == ["podman", "create", "--pod", "shop", "bb"])
        #expect(PersistPlan.joiningByName(["podman", "run", "--pod=\(Self.podID)", "bb"], pod: "shop", podID: Self.podID)
                == ["podman", "run", "--pod=shop", "bb"])
        // Only the first --pod is Podman's: a later one belongs to the container's own command.
        #expect(PersistPlan.joiningByName(["podman", "run", "--pod", "shop", "bb", "app", "--pod", "9a"], pod: "shop", podID: Self.podID)
                == ["podman", "run", "--pod", "shop", "bb", "app", "--pod", "9a"])
    }

    @Test("a name or a create command a user chose cannot end a comment step: piped to sh, the comments run nothing")
    func commentsStayComments() throws {
        let dir = try SafeFiles.makePrivateDirectory(prefix: "smt-persist-comment")
        let marker = "\(dir)/pwned"
        defer { unlink(marker); rmdir(dir) }
        let infra = Self.container("i", infra: true, create: ["podman", "pod", "create", "--name", "shop", "-p", "8080:80", "x\ntouch \(marker)\n"])
        let named = Self.container("m\ntouch \(marker)", create: [])
        let acting = try #require(Acting(actor: 0, owner: 4_242_424, ownerName: nil))
        for plan in [try #require(PersistPlan(container: infra, members: [named], forwards: Self.live, acting: acting)),
                     try #require(PersistPlan(container: infra, members: [named], forwards: Self.live, acting: nil))] {
            let comments = plan.steps.filter { $0.hasPrefix("#") }
            #expect(!comments.isEmpty && comments.allSatisfy { !$0.contains("\n") }, "\(plan.steps)")
            // Only the comments are run: the others would ask Podman.
            let script = comments.joined(separator: "\n") + "\n"
            let run = try Executables.run("/bin/sh", ["-c", script], timeout: 10).get()
            #expect(run.status == 0 && !Files.exists(marker), "a comment ran a command: \(script)")
        }
    }

    @Test("another user's container claiming the pod is no step of the pod owner's plan")
    func anotherUsersClaimIsNoStep() throws {
        let infra = Self.container("i", infra: true, create: ["podman", "pod", "create", "--name", "shop", "-p", "8080:80"])
        var claim = Self.container("evil", create: ["podman", "run", "-d", "--pod", "shop", "--privileged", "-v", "/:/h", "bb"])
        claim.ownerUID = 1001
        let plan = try #require(PersistPlan(container: infra, members: [claim], forwards: Self.live, acting: nil))
        #expect(plan.steps.count == 2 && !plan.steps.joined().contains("evil"), "\(plan.steps)")
        #expect(!plan.consequence.contains("evil"), "\(plan.consequence)")
    }

    @Test("for an owner root cannot switch to, every step is a comment that says whom it must run as")
    func uidOnlyOwnerGetsCommentsOnly() throws {
        let infra = Self.container("i", infra: true, create: ["podman", "pod", "create", "--name", "shop", "-p", "8080:80"])
        let web = Self.container("web", create: ["podman", "run", "-d", "--pod", "shop", "bb"])
        let acting = try #require(Acting(actor: 0, owner: 4_242_424, ownerName: nil))
        let plan = try #require(PersistPlan(container: infra, members: [web], forwards: Self.live, acting: acting))
        #expect(plan.steps.count == 3 && plan.steps.allSatisfy { $0.hasPrefix("# run as uid 4242424") }, "\(plan.steps)")
    }

    @Test("nothing to keep: no plan")
    func noPlanWithoutAnythingToKeep() {
        let infra = Self.container("i", infra: true, create: ["podman", "pod", "create", "--name", "shop", "-p", "8080:80"])
        let covered = [HostForward(id: 1, proto: .tcp, hostAddr: "0.0.0.0", hostPort: 8080, guestAddr: "10.0.2.100", guestPort: 80)]
        #expect(PersistPlan(container: infra, members: [], forwards: covered, acting: nil) == nil)
    }

    @Test("a pod made by `podman kube play` or through the API gets no steps (removing it first would lose more), only what to do instead")
    func noStepsWhenTheCreateCommandTakesNoPublishFlag() throws {
        for create in [["podman", "kube", "play", "--network", "slirp4netns:port_handler=slirp4netns", "/srv/run.yaml"], ["podman", "play", "kube", "create.yaml"]] {
            let plan = try #require(PersistPlan(container: Self.container("i", infra: true, create: create), members: [], forwards: Self.live, acting: nil))
            #expect(plan.steps.isEmpty && plan.createStep == nil, "\(plan.steps)")
            #expect(plan.consequence.hasPrefix("pod shop was made by `\(Shell.command(create))`, which takes no -p: add the ports where it is defined"), "\(plan.consequence)")
        }
        let api = try #require(PersistPlan(container: Self.container("web", create: []), members: [], forwards: Self.live, acting: nil))
        #expect(api.steps.isEmpty)
        #expect(api.consequence == "Podman kept no create command for container web (made through its API?): add -p 127.0.0.1:18090:80/tcp where it is made")
    }

    @Test("the -p flags go right after run or create, whatever options come before")
    func flagsGoAfterTheSubcommand() {
        let flags = ["-p", "127.0.0.1:1:2/tcp"]
        #expect(PersistPlan.publishing(flags, in: ["/usr/bin/podman", "--root", "/var/run", "container", "create", "bb"])
                == ["/usr/bin/podman", "--root", "/var/run", "container", "create", "-p", "127.0.0.1:1:2/tcp", "bb"])
        #expect(PersistPlan.publishing(flags, in: ["podman", "pod", "create", "--name", "run"]) == ["podman", "pod", "create", "-p", "127.0.0.1:1:2/tcp", "--name", "run"])
        #expect(PersistPlan.publishing(flags, in: []) == nil)
    }

    @Test("each member's step leaves it as it is: a foreground run (-t, -it, -dit's d lost) runs detached, a created-then-started one runs, a stopped one is created without run's own options")
    func membersComeBackAsTheyAre() {
        let cases: [([String], Bool, [String])] = [
            (["podman", "run", "-it", "--pod", "shop", "bb", "sh"], true, ["podman", "run", "-d", "-it", "--pod", "shop", "bb", "sh"]),
            (["podman", "run", "-t", "--name", "w", "bb", "httpd", "-d"], true, ["podman", "run", "-d", "-t", "--name", "w", "bb", "httpd", "-d"]),
            (["podman", "run", "-dit", "bb"], true, ["podman", "run", "-dit", "bb"]),
            (["podman", "run", "--detach=false", "-e", "-d", "bb"], true, ["podman", "run", "-d", "-e", "-d", "bb"]),
            (["podman", "create", "--pod", "shop", "bb"], true, ["podman", "run", "-d", "--pod", "shop", "bb"]),
            (["podman", "container", "run", "-d", "--sig-proxy", "--detach-keys", "ctrl-x", "bb", "top", "-d", "1"], false,
             ["podman", "container", "create", "bb", "top", "-d", "1"]),
            (["podman", "run", "-dp", "8080:80", "--rmi", "bb"], false, ["podman", "create", "-p", "8080:80", "bb"]),
            (["podman", "run", "-itd", "bb"], false, ["podman", "create", "-it", "bb"]),
            (["podman", "create", "--pod", "shop", "bb"], false, ["podman", "create", "--pod", "shop", "bb"]),
            (["podman", "pod", "create", "--name", "shop"], true, ["podman", "pod", "create", "--name", "shop"]),
            (["podman", "kube", "play", "x.yaml"], false, ["podman", "kube", "play", "x.yaml"]),
        ]
        for (command, running, expected) in cases {
            #expect(RecreateCommand.leaving(command, running: running) == expected, "\(command) running: \(running)")
        }
    }
}

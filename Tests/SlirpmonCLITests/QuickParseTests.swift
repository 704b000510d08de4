import ArgumentParser
import Testing
@testable import slirpmon

/// `slirpmon list` is parsed without ArgumentParser when its arguments are plainly valid
/// (`ListRequest(quick:)`): it must mean exactly what ArgumentParser makes of them, and leave
/// everything else to ArgumentParser.
@Suite("list's quick parse")
struct QuickParseTests {
    static let plain: [[String]] = [
        ["list"], ["list", "--json"], ["list", "--no-podman", "--json"], ["list", "--no-forwards"],
        ["list", "--timeout", "0.5"], ["list", "--timeout=7", "--no-forwards"], ["list", "--timeout", "1e1"],
        ["list", "--json", "--no-forwards", "--no-podman", "--timeout", "600"], ["list", "--no-cache", "--json"],
        ["list", "--rates", "1", "--json"], ["list", "--rates=0.5"],
    ]

    @Test(arguments: plain)
    func meansWhatArgumentParserMakesOfIt(arguments: [String]) throws {
        let quick = try #require(ListRequest(quick: arguments[...]))
        let parsed = try #require(try Slirpmon.parseAsRoot(arguments) as? Slirpmon.List)
        #expect(quick == ListRequest(parsed))
    }

    static let others: [[String]] = [
        [], ["show", "1"], ["--no-color", "list"], ["list", "--help"], ["list", "-h"], ["list", "help"], ["list", "--version"],
        ["list", "--json", "--json"], ["list", "--jsn"], ["list", "--json=yes"], ["list", "extra"],
        ["list", "--timeout"], ["list", "--timeout", "0"], ["list", "--timeout", "601"], ["list", "--timeout", "-1"],
        ["list", "--timeout", "nan"], ["list", "--timeout", "inf"], ["list", "--timeout", "2s"], ["list", "--timeout", "1", "--timeout", "2"],
        ["list", "--no-podman=1"], ["list", "--"], ["list", "--no-cache", "--no-cache"], ["list", "--no-cache=yes"],
        ["list", "--rates"], ["list", "--rates", "0"], ["list", "--rates", "61"], ["list", "--rates", "nan"],
    ]

    @Test(arguments: others)
    func leavesEverythingElseToArgumentParser(arguments: [String]) {
        #expect(ListRequest(quick: arguments[...]) == nil)
    }

    @Test func invalidValuesStillGetArgumentParsersError() {
        #expect(throws: (any Error).self) { try Slirpmon.parseAsRoot(["list", "--timeout", "0"]) }
        #expect(throws: (any Error).self) { try Slirpmon.parseAsRoot(["list", "--jsn"]) }
    }

    /// A flag added to `list` must be added to the quick parse too (or scripts using it fall
    /// back to the slow parse): the options in `list --help` are exactly the ones it knows.
    @Test func knowsEveryOptionOfListsHelp() throws {
        let help = Slirpmon.helpMessage(for: Slirpmon.List.self, columns: 200)
        let options = Set(help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "<" })
            .filter { $0.hasPrefix("--") }.map(String.init))
        #expect(options == ["--json", "--timeout", "--no-forwards", "--no-podman", "--no-cache", "--rates", "--help", "--version"], "\(help)")
        for option in options.subtracting(["--help", "--version"]) {
            let arguments = option == "--timeout" || option == "--rates" ? ["list", option, "3"] : ["list", option]
            #expect(ListRequest(quick: arguments[...]) != nil, "\(option) is not parsed quickly")
        }
    }
}

/// `slirpmon fwd list TARGET` is parsed without ArgumentParser too (`FwdListRequest(quick:)`),
/// under the same rule: exactly what ArgumentParser makes of the arguments, or nothing.
@Suite("fwd list's quick parse")
struct FwdListQuickParseTests {
    static let plain: [[String]] = [
        ["fwd", "list", "12"], ["fwd", "list", "pid:12", "--json"], ["fwd", "list", "--json", "web"], ["fwd", "list", "web", "--unverified"],
        ["fwd", "list", "web", "--timeout", "0.5"], ["fwd", "list", "--timeout=7", "--json", "pid:9"], ["fwd", "list", "web", "--timeout", "1e1"],
        ["fwd", "list", "--unverified", "--json", "--timeout", "600", "ns:/run/netns/x"],
    ]

    @Test(arguments: plain)
    func meansWhatArgumentParserMakesOfIt(arguments: [String]) throws {
        let quick = try #require(FwdListRequest(quick: arguments[...]))
        let parsed = try #require(try Slirpmon.parseAsRoot(arguments) as? Slirpmon.Fwd.ListForwards)
        #expect(quick == FwdListRequest(parsed))
    }

    static let others: [[String]] = [
        ["fwd", "list"], ["fwd", "add", "1", "80:80"], ["fwd", "list", "1", "2"], ["fwd", "list", "help"], ["fwd", "list", "--help"],
        ["fwd", "list", "1", "-h"], ["fwd", "list", "1", "--version"], ["fwd", "list", "1", "--json", "--json"], ["fwd", "list", "1", "--jsn"],
        ["fwd", "list", "1", "--json=yes"], ["fwd", "list", "1", "--timeout"], ["fwd", "list", "1", "--timeout", "0"],
        ["fwd", "list", "1", "--timeout", "nan"], ["fwd", "list", "1", "--timeout", "2s"], ["fwd", "list", "--", "1"], ["fwd", "list", "-1"],
        ["fwd", "list", "1", "--unverified=1"], ["fwd", "list", ""], ["list", "fwd", "1"], ["fwd", "1", "list"],
    ]

    @Test(arguments: others)
    func leavesEverythingElseToArgumentParser(arguments: [String]) {
        #expect(FwdListRequest(quick: arguments[...]) == nil)
    }

    /// A flag added to `fwd list` must be added to the quick parse too: the options in its help are exactly the ones it knows.
    @Test func knowsEveryOptionOfItsHelp() throws {
        let help = Slirpmon.helpMessage(for: Slirpmon.Fwd.ListForwards.self, columns: 200)
        let options = Set(help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "<" })
            .filter { $0.hasPrefix("--") }.map(String.init))
        #expect(options == ["--json", "--timeout", "--unverified", "--help", "--version"], "\(help)")
        for option in options.subtracting(["--help", "--version"]) {
            let arguments = ["fwd", "list", "1", option] + (option == "--timeout" ? ["3"] : [])
            #expect(FwdListRequest(quick: arguments[...]) != nil, "\(option) is not parsed quickly")
        }
    }
}

import Foundation
import Glibc
@testable import SlirpCore
import SlirpTestSupport
import Testing

/// "X is not searchable" is said only of a directory that refused this user (EACCES), and a
/// relative path is followed from the working directory, as `stat` follows it
/// (`Files.firstUnsearchableDirectory`).
@Suite("The directory named as not searchable is the one that refused", .serialized)
struct UnsearchableDirectoryTests {
    @Test("a path through a directory that does not exist, or through a file, names no directory as not searchable")
    func missingComponentIsNotAPermissionProblem() throws {
        let s = try DoctorScratch("unsearch-missing")
        #expect(Files.firstUnsearchableDirectory(of: "\(s.dir)/no-such-dir/deeper/file") == nil)
        #expect(Files.firstUnsearchableDirectory(of: "\(s.conf)/deeper/file") == nil, "a file on the way is ENOTDIR, not EACCES")
        #expect(Files.firstUnsearchableDirectory(of: "no-such-relative-dir-\(getpid())/file") == nil)
        #expect(Files.firstUnsearchableDirectory(of: s.conf) == nil)
    }

    /// `slirpmon doctor` as `nobody`, from `directory`, with CONTAINERS_CONF set to `conf`: what it says.
    func doctorAsNobody(from directory: String, conf: String) -> String {
        openToOtherUsers(slirpmonBinary)
        let out = sh("sh", ["-c", "cd \(Shell.quoted(directory)) && exec runuser -u nobody -- env CONTAINERS_CONF=\(Shell.quoted(conf)) \(slirpmonBinary) doctor"], timeout: 90)
        return out.stdout + out.stderr
    }

    @Test("a user whose relative CONTAINERS_CONF lies behind a directory it may not search is told that directory, relative, not one under /")
    func relativePathNamesItsOwnDirectory() throws {
        let s = try DoctorScratch("unsearch-rel")
        mkdir(s.dir + "/closed", 0o700)
        try Files.write(try Files.readText(s.conf), to: s.dir + "/closed/containers.conf", mode: 0o644)
        let said = doctorAsNobody(from: s.dir, conf: "closed/containers.conf")
        #expect(said.contains("CONTAINERS_CONF names a file this user cannot reach (permission denied: closed is not searchable)"), "\(said)")
        #expect(!said.contains("/closed is not searchable"), "a relative path made absolute from /:\n\(said)")
    }

    @Test("a user whose working directory it may not search is told so, by the directory's name, for a relative CONTAINERS_CONF")
    func closedWorkingDirectoryIsNamed() throws {
        let s = try DoctorScratch("unsearch-cwd")
        let closed = s.dir + "/closed"
        mkdir(closed, 0o700)
        try Files.write(try Files.readText(s.conf), to: closed + "/containers.conf", mode: 0o644)
        let said = doctorAsNobody(from: closed, conf: "containers.conf")
        #expect(said.contains("CONTAINERS_CONF names a file this user cannot reach (permission denied: \(closed) is not searchable)"), "\(said)")
    }
}

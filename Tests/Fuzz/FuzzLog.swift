// An unlinked log's bytes, read through a /proc-like fd link with tail and read.
import Foundation
import Glibc
import SlirpCore

private let root = "/tmp/slirpmon-fuzz-log-\(getpid())"
private let file = "\(root)/log"
private let ready: Bool = {
    mkdir(root, 0o700)
    mkdir("\(root)/proc", 0o700)
    mkdir("\(root)/proc/1", 0o700)
    mkdir("\(root)/proc/1/fd", 0o700)
    unlink("\(root)/proc/1/fd/1")
    symlink(file, "\(root)/proc/1/fd/1")
    return true
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLog(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard ready else { return 0 }
    let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, data, size)
    close(fd)
    let budget = size == 0 ? 1 : Int(data[0]) % 64 + 1
    guard let log = try? UnlinkedLog(pid: 1, procRoot: "\(root)/proc") else { abort() }
    if let tail = try? log.tail(maxBytes: budget) {
        require(tail.endOffset == Int64(size), "tail ends at \(tail.endOffset), file has \(size)")
        require(tail.startOffset >= 0 && tail.startOffset <= tail.endOffset, "tail offsets")
        _ = tail.lines
    }
    var offset: Int64 = 0
    var steps = 0
    while steps < 200, let chunk = try? log.read(from: offset, maxBytes: budget) {
        _ = chunk.lines
        if chunk.endOffset == offset { break }
        require(chunk.endOffset > offset, "read went backwards")
        offset = chunk.endOffset
        steps += 1
    }
    return 0
}

import ArgumentParser
import SlirpCore
#if canImport(Glibc)
import Glibc
#endif

extension Slirpmon {
    /// `slirpmon log TARGET`: the unlinked log, read through /proc/PID/fd.
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Print the instance's log (unlinked by Podman, read through /proc/PID/fd/1).")

        @Argument(help: "PID, container ID or unique ID prefix.") var target: String

        @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written, until the process exits or Ctrl-C.")
        var follow = false

        @Option(name: .long, help: "Print at most the last N bytes (from a line start); the whole log is never read.")
        var bytes: Int = 64 * 1024

        func validate() throws {
            guard bytes > 0, bytes <= 1 << 30 else { throw ValidationError("--bytes must be between 1 and 1073741824, got \(bytes)") }
        }

        func run() throws {
            let process = try Targets.process(target)
            let log: UnlinkedLog
            do { log = try UnlinkedLog(pid: process.pid) } catch { throw CLIError.failed(error.description) }
            let chunk: LogChunk
            do { chunk = try log.tail(maxBytes: bytes) } catch { throw CLIError.failed(error.description) }
            if isatty(1) != 0 {
                let note = chunk.truncatedBefore ? ", last \(chunk.endOffset - chunk.startOffset) of \(chunk.endOffset) bytes" : ""
                FileHandleOutput.error("== \(log.originalPath)\(log.isDeleted ? " (deleted)" : "") via /proc/\(process.pid)/fd/\(log.fd)\(note) ==")
            }
            writeOut(chunk.text)
            guard follow else { return }
            var offset = chunk.endOffset
            let scanner = ProcessScanner()
            while true {
                usleep(200_000)
                do {
                    let next = try log.read(from: offset)
                    if next.truncatedBefore { FileHandleOutput.error("== log truncated; reading from the start ==") }
                    writeOut(next.text)
                    offset = next.endOffset
                    if !next.text.isEmpty { continue }
                } catch { throw CLIError.failed(error.description) }
                if !scanner.isAlive(process.identity) {
                    FileHandleOutput.error("== slirp4netns \(process.pid) has exited; its log is closed ==")
                    return
                }
            }
        }

        private func writeOut(_ text: String) {
            guard !text.isEmpty else { return }
            var data = Array(text.utf8)
            var offset = 0
            while offset < data.count {
                let n = data.withUnsafeMutableBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 { Glibc.exit(errno == EPIPE ? 0 : 1) }
                offset += n
            }
        }
    }
}

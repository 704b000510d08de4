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
            abstract: "Print the instance's log (unlinked by Podman, read through /proc/PID/fd/1).",
            discussion: TargetHelp.rules)

        @Argument(help: TargetHelp.argument) var target: String

        @Flag(name: .shortAndLong, help: "Keep printing new lines as they are written, until the process exits or Ctrl-C.")
        var follow = false

        @Option(name: .customLong("bytes"), parsing: .unconditional,
                help: ArgumentHelp("Print at most the last N bytes (from a line start); the whole log is never read.", valueName: "bytes"))
        var bytesArgument = WrittenNumber<Int>(64 * 1024)
        var bytes: Int { bytesArgument.value }

        @Flag(name: .long, help: ArgumentHelp(
            "Write the log's bytes exactly as they are, to a pipe or a file (refused on a terminal).",
            discussion: "Without --raw, a control character, DEL, C1, a bidi or other invisible character, or a byte that is not UTF-8 is written as a visible escape (\\x1B, \\u{202E}): the log is written by the instance's user, and a terminal would obey escape sequences in it."))
        var raw = false

        func validate() throws {
            guard bytesArgument.isNumber(within: { $0 > 0 && $0 <= 1 << 30 }) else { throw ValidationError("--bytes must be from 1 to 1073741824 (1 GiB), got \(bytesArgument.written)") }
        }

        func run() throws {
            // Decided before anything is read: the exact bytes never reach a terminal.
            var exact: FileHandleOutput.ExactOutput?
            if raw {
                guard let output = FileHandleOutput.ExactOutput.whenNotATerminal() else {
                    throw CLIError.usage("--raw writes the log's bytes as they are, escape sequences included: not to a terminal; redirect it to a file or a pipe (e.g. `| less -R` to view)")
                }
                exact = output
            }
            // With --follow, a character cut by the end of one read is kept for the next, so
            // that it is shown as itself and not as the \xNN of its pieces.
            var pending: [UInt8] = []
            func writeOut(_ bytes: [UInt8]) {
                if let exact { return exact.write(bytes) }
                var text = pending + bytes
                pending = follow ? Array(text.suffix(Self.cutCharacterLength(text))) : []
                text.removeLast(pending.count)
                FileHandleOutput.logText(text)
            }
            let process = try Targets.process(target)
            let log: UnlinkedLog
            do { log = try UnlinkedLog(pid: process.pid) } catch { throw CLIError.failed(error.description) }
            let chunk: LogChunk
            do { chunk = try log.tail(maxBytes: bytes) } catch { throw CLIError.failed(error.description) }
            if isatty(1) != 0 {
                let note = chunk.truncatedBefore ? ", last \(chunk.endOffset - chunk.startOffset) of \(chunk.endOffset) bytes" : ""
                FileHandleOutput.error("== \(log.originalPath)\(log.isDeleted ? " (deleted)" : "") via /proc/\(process.pid)/fd/\(log.fd)\(note) ==")
            }
            writeOut(chunk.bytes)
            guard follow else { return }
            var offset = chunk.endOffset
            let scanner = ProcessScanner()
            while true {
                usleep(200_000)
                do {
                    let next = try log.read(from: offset)
                    if next.truncatedBefore { FileHandleOutput.error("== log truncated; reading from the start ==") }
                    writeOut(next.bytes)
                    offset = next.endOffset
                    if !next.bytes.isEmpty { continue }
                } catch { throw CLIError.failed(error.description) }
                if !scanner.isAlive(process.identity) {
                    FileHandleOutput.logText(pending)
                    FileHandleOutput.error("== slirp4netns \(process.pid) has exited; its log is closed ==")
                    return
                }
            }
        }

        /// How many bytes at the end of `bytes` begin a UTF-8 character they do not finish (0-3).
        static func cutCharacterLength(_ bytes: [UInt8]) -> Int {
            guard !bytes.isEmpty else { return 0 }
            for back in 1...min(3, bytes.count) {
                let byte = bytes[bytes.count - back]
                if byte & 0xC0 == 0x80 { continue } // a continuation byte: look further back
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return length > back ? back : 0
            }
            return 0
        }
    }
}

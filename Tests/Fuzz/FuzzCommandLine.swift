// slirp4netns command lines as /proc/PID/cmdline gives them (NUL-separated), decoded like getopt_long.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fields = fuzzFields(data, size)
    let config = SlirpCommandLine.decode(fields)
    _ = config.explained
    let bare = SlirpCommandLine.decode(fields, includesProgramName: false)
    _ = bare.explained
    if let mtu = config.mtu { require(mtu >= 0 || mtu < 0, "mtu") }
    return 0
}

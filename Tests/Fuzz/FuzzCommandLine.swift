// slirp4netns command lines as /proc/PID/cmdline gives them (NUL-separated), decoded like getopt_long.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fields = fuzzFields(data, size)
    let config = SlirpCommandLine.decode(fields)
    _ = config.explained
    let bare = SlirpCommandLine.decode(fields, includesProgramName: false)
    _ = bare.explained
    // Only an MTU slirp4netns itself accepts is decoded; any other value leaves none.
    for mtu in [config.mtu, bare.mtu].compactMap({ $0 }) { require((1...65521).contains(mtu), "decoded an MTU slirp4netns refuses: \(mtu)") }
    return 0
}

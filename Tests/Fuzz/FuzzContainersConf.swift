// containers.conf files (the TOML subset the doctor reads), and podman inspect JSON.
import SlirpCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainersConf(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    _ = try? TOMLSubset.parse(text)
    _ = try? ContainersConf.parse(text)
    _ = try? ContainerNetworkOptions.parse(inspectJSON: text, name: "fuzz")
    return 0
}

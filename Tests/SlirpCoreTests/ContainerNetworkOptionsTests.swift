@testable import SlirpCore
import Testing

@Suite("ContainerNetworkOptions: a container's slirp4netns options from podman inspect")
struct ContainerNetworkOptionsTests {
    @Test("every spelling of the network flag", arguments: [
        (["podman", "run", "--network", "slirp4netns:mtu=65530,enable_ipv6=false", "img"], ["mtu=65530", "enable_ipv6=false"]),
        (["podman", "run", "--network=slirp4netns:port_handler=slirp4netns", "img"], ["port_handler=slirp4netns"]),
        (["podman", "create", "--net", "slirp4netns:cidr=10.9.0.0/16", "img"], ["cidr=10.9.0.0/16"]),
        (["podman", "create", "--net=slirp4netns", "img"], []),
    ])
    func spellings(command: [String], expected: [String]) {
        #expect(ContainerNetworkOptions.slirpOptions(createCommand: command) == expected)
    }

    @Test("another network is not slirp4netns; the container's own arguments are not looked at")
    func others() {
        #expect(ContainerNetworkOptions.slirpOptions(createCommand: ["podman", "run", "--network", "bridge", "img"]) == nil)
        #expect(ContainerNetworkOptions.slirpOptions(createCommand: ["podman", "run", "localhost/bb", "tool", "--net=slirp4netns:mtu=1"],
                                                     image: "localhost/bb") == nil)
    }

    @Test("inspect JSON: id, name, mode, options and the number of port bindings")
    func inspectJSON() throws {
        let json = """
        [{"Id": "\(String(repeating: "ab", count: 32))", "Name": "web", "ImageName": "localhost/bb:latest",
          "State": {"Status": "created"},
          "Config": {"CreateCommand": ["podman", "create", "--name", "web", "--network", "slirp4netns:mtu=65530", "-p", "127.0.0.1:8080:80", "-p", "8443:443", "localhost/bb:latest", "httpd"]},
          "HostConfig": {"NetworkMode": "slirp4netns", "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "443/tcp": [{"HostIp": "", "HostPort": "8443"}]}}}]
        """
        let info = try ContainerNetworkOptions.parse(inspectJSON: json, name: "web")
        #expect(info.id.count == 64)
        #expect(info.name == "web")
        #expect(info.usesSlirp4netns)
        #expect(info.options == ["mtu=65530"])
        #expect(info.portMappings == 2)
        #expect(info.state == "created")
        #expect(throws: ContainerNetworkOptions.Failure.self) { try ContainerNetworkOptions.parse(inspectJSON: "[]", name: "x") }
    }
}

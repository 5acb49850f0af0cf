import AgentPOSIX
import ClaudeEndpoint
import HTTPBridge

/// `endpoint`: checks the options, then runs claude-agent-endpoint in this process's place.
///
/// The endpoint speaks HTTPS to the API, which needs FoundationNetworking; the CLI stays
/// static and quick to start, so the endpoint is a program of its own, found as
/// claude-agentd is.
enum EndpointCommand {
    static func run(_ arguments: [String]) {
        let parsed = Lifecycle.parse(arguments, command: "endpoint", flags: [:],
                                     options: Commands.socketOption.merging(
                                        ["--listen": [], "--account": [], "--upstream": [], "--upstream-timeout": []]) { a, _ in a })
        for text in parsed.all("--listen") {
            do throws(BridgeError) {
                _ = try BridgeConfiguration.listenAddress(text)
            } catch {
                Output.usage(error.message, command: "endpoint")
            }
        }
        if let text = parsed.value("--upstream") {
            do throws(EndpointError) {
                _ = try UpstreamURL(text)
            } catch {
                Output.usage(error.message, command: "endpoint")
            }
        }
        let program = Lifecycle.siblingExecutable("claude-agent-endpoint")
        do throws(Errno) {
            try ProcessControl.exec(program, arguments: arguments)
        } catch {
            Output.fail("could not run \(program): \(error)", .failure)
        }
    }
}

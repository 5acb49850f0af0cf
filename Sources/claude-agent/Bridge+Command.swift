import AgentPOSIX
import AgentProtocol
import ClaudeAgentClient
import Glibc
import HTTPBridge

/// `bridge`: runs the HTTP bridge in the foreground until SIGTERM or SIGINT.
enum BridgeCommand {
    static func run(_ arguments: [String]) {
        let parsed = CommandTable.parse("bridge", arguments)
        var listen: [SocketAddress] = []
        for text in parsed.all("--listen") {
            do throws(BridgeError) {
                listen.append(try BridgeConfiguration.listenAddress(text))
            } catch {
                Output.usage(error.message, command: "bridge")
            }
        }
        let socket = SocketPath.resolve(explicit: parsed.value("-a"))
        var configuration = BridgeConfiguration(socketPath: socket)
        if !listen.isEmpty { configuration.listen = listen }
        configuration.server.log = { Bridge.log($0) }

        let signals: SignalDescriptor
        do throws(Errno) {
            try Bridge.prepareProcess()
            signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
        } catch {
            Output.fail(.bridgeFailed, "cannot prepare the bridge: \(error)")
        }
        let bridge: Bridge
        do throws(BridgeError) {
            bridge = try Bridge(configuration: configuration)
        } catch {
            Output.fail(error.code, error.message)
        }
        if (try? AgentClient(socketPath: socket, timeoutMilliseconds: 2000).status()) == nil {
            Output.warn("no agent answers at \(socket) yet; the bridge answers 503 until one does")
        }
        for url in bridge.urls { Output.err("Bridge listening on \(url)\n") }
        // The secret goes to a terminal, never into a log file or a journal.
        if FileDescriptor.standardError.isTerminal {
            Output.err("Approval page: \(bridge.pageURL)\n")
        } else {
            Output.err("Approval page: \(bridge.urls[0])/?token=<the content of \(bridge.tokenPath)>\n")
        }
        do throws(BridgeError) {
            try bridge.run(signals: signals)
        } catch {
            Output.fail(error.code, error.message)
        }
    }
}

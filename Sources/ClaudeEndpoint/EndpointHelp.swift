/// `claude-agent endpoint --help`: the CLI runs claude-agent-endpoint for it, so the text
/// lives beside the options it describes.
public enum EndpointHelp {
    public static let text = """
        usage: claude-agent endpoint [--listen ADDRESS:PORT]... [--account A] [--upstream URL]
                                     [--upstream-timeout SECONDS] [-a SOCKET]

        Serves the Anthropic API on loopback and forwards every request to the upstream
        with the account's current token and the provider's headers (anthropic-beta flags
        are added to the client's own); the agent refreshes the token, so a session that
        runs for days never sees one expire. Runs in the foreground until SIGTERM or
        SIGINT and logs one line per request (caller pid and executable, account, method,
        path, status, bytes each way, milliseconds), never a token or a body. Point a tool
        at it:
          claude-agent endpoint &
          export ANTHROPIC_BASE_URL=http://127.0.0.1:7778
          export ANTHROPIC_AUTH_TOKEN=claude-agent   # a placeholder; claude-agent:NAME picks an account
        ANTHROPIC_AUTH_TOKEN comes first in Claude Code's order of credentials; the SDKs
        read both variables. The key may also be sent as x-api-key (ANTHROPIC_API_KEY).

        options:
          --listen ADDRESS:PORT    a loopback address to listen on (127.0.0.1:PORT, [::1]:PORT,
                                   localhost:PORT or a bare PORT); repeat for several
                                   (default 127.0.0.1:7778)
          --account A              the account used when the client's key names none
                                   (default: the agent's default account)
          --upstream URL           the API to forward to (default: the api_url of --account's
                                   provider, else of the default provider, as the agent
                                   says at start; else https://api.anthropic.com);
                                   plain http:// only to a loopback address
          --upstream-timeout SECS  how long the upstream may stay silent, before its answer
                                   or within it, 1 to 3600 (default 600, the SDKs' own)
          -a SOCKET                the agent's socket (default as for start)

        Only the user's own processes are served; a request with a foreign Host, or made
        by a web browser (Origin, Sec-Fetch-* fields), is refused (403). An upstream 401
        on a token the agent still holds valid is retried once after a forced refresh.
        When no token can be had the client gets the API's own error shape with what to
        run: 503 when the agent is down or locked, 401 when the account must log in. The
        upstream's certificate is checked against the system's CA store (libcurl's
        bundle; add a private CA with update-ca-certificates). See Endpoint.md.
        """
}

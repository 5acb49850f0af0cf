import AgentArguments
import AgentProtocol

/// The help texts. Kept beside the code they describe and true to it: `--help` and the
/// README are the user's manual.
enum Help {
    static let exitCodes = """
        exit codes:
          0  success
          1  no agent answers at the socket (agent_not_running, io)
          2  usage error or bad input (usage, bad_request, bad_configuration, invalid_state)
          3  no token covers the request (no_token, not_found)
          4  the token expired and could not be refreshed (expired, login_required, rotation_lost, refresh_failed)
          5  the agent is locked (locked)
          6  denied, cancelled or timed out (denied, cancelled, timeout, request_failed)
          7  any other error (login_failed, invalid_status, listen_failed, start_failed, ...)
          126  exec: COMMAND cannot be run (command_not_executable)
          127  exec: COMMAND is not found (command_not_found)
        Errors are one line on stderr: claude-agent: <code>: <message>.
        """

    static let main = """
        usage: claude-agent [-a SOCKET] <command> [options]
               claude-agent --help | --version

        A per-user agent that holds Claude OAuth tokens in memory and hands them to
        tools over a Unix socket, in the style of ssh-agent.

        commands:
          start      start an agent (or find the running one) and print shell variables
          stop       stop the agent and print commands that unset the variables (also -k)
          serve      run the agent in the foreground, logging to stderr
          status     show the agent's pid, version, uptime, socket and lock state
          list       list accounts (never secrets)
          add        add a token bundle read as JSON from stdin
          remove     forget an account
          lock       stop handing out tokens until unlocked with the passphrase
          unlock     unlock the agent
          token      print an access token for the given scopes
          exec       run a command (Claude Code, say) with a fresh token in its environment
          login      log an account in with OAuth (PKCE) in a browser
          logout     forget an account and revoke its refresh token
          requests   list token requests waiting for approval
          approve    approve a token request with an account
          deny       deny a token request
          bridge     serve the HTTP API and the approval page on loopback
          endpoint   serve the Anthropic API on loopback with the agent's tokens attached

        Typical use, in a login shell:
          eval "$(claude-agent start)"
          claude-agent token --scope user:inference

        Client commands find the agent through -a SOCKET (before or after the command),
        else CLAUDE_AGENT_SOCK, else the default socket
        $XDG_RUNTIME_DIR/claude-agent/agent.sock. --help and --version (-V) also go
        before or after the command.

        Run 'claude-agent <command> --help' for a command's options.

        \(exitCodes)
        """

    /// A command's help around its options: the usage line, what it does, and more prose
    /// after the options. The options themselves are `CommandTable`'s (`text(of:)`).
    struct Page {
        /// The usage lines; nil: made from the options (`Option.usage`).
        let usage: String?
        let about: String
        var notes: String?
    }

    /// `command`'s whole `--help`: its page, with the options its table entry describes
    /// (`CommandSpec.described`) between what it does and the notes; nil for no command.
    static func text(of command: String) -> String? {
        guard let page = pages[command], let spec = CommandTable.specs[command] else { return nil }
        var text = (page.usage ?? Option.usage("claude-agent \(command)", spec.described)) + "\n\n" + page.about
        if !spec.described.isEmpty {
            text += "\n\noptions:\n" + Option.helpSection(spec.described, column: Option.fittingColumn(spec.described))
        }
        if let notes = page.notes { text += "\n\n" + notes }
        return text
    }

    static let pages: [String: Page] = [
        "start": Page(
            usage: "usage: claude-agent start [-s | -c | --fish] [-a SOCKET] [-t SECONDS] [agent options]",
            about: """
                Starts an agent detached from the terminal, or finds the one already answering
                at the socket, and prints the variables to set, for eval:
                  eval "$(claude-agent start)"          # sh, bash, zsh
                  eval `claude-agent start -c`          # csh, tcsh
                  claude-agent start --fish | source    # fish
                Running it again reuses the running agent; it never starts a second one (the
                agent options and -t then apply to nothing, which it says on stderr).
                Only one of -s, -c and --fish may be given.
                """,
            notes: """
                agent options (see 'claude-agent serve --help'), used only when an agent is started:
                \(Option.synopsisList(DaemonOptions.passedThrough))
                """),
        "stop": Page(
            usage: """
                usage: claude-agent stop [-s | -c | --fish] [-a SOCKET]
                       claude-agent -k
                """,
            about: """
                Stops the agent named by CLAUDE_AGENT_SOCK (or -a), which removes its socket,
                and prints commands that unset CLAUDE_AGENT_SOCK and CLAUDE_AGENT_PID:
                  eval "$(claude-agent stop)"
                """),
        // The agent options, described and in the usage line as claude-agentd declares them.
        "serve": Page(
            usage: nil,
            about: """
                Runs the agent in the foreground, logging to stderr (for systemd and
                debugging). SIGTERM, SIGINT or SIGHUP remove the socket and exit 0.
                """,
            notes: """
                The agent exits (with a log line) when its socket is removed or replaced.
                """),
        "status": Page(
            usage: "usage: claude-agent status [--json] [-a SOCKET]",
            about: """
                Shows the agent's pid, version, uptime, socket, lock state and account count,
                each account's state (past 64 accounts, read page by page from the list), and a
                warning for each account whose refresh token lapses within a day (log in again
                before then).
                """),
        "list": Page(
            usage: "usage: claude-agent list [--json] [-a SOCKET]",
            about: """
                Lists the accounts: id, name, scopes, expiry, a fingerprint of the access token,
                its state, who the account is (email and organization, when the provider said)
                and when its refresh token lapses (when the provider said). Never prints a
                token. --json adds refresh_expires_at, email, organization, organization_uuid.
                Every account, however many: the agent answers in pages, which this command
                follows.
                """),
        "add": Page(
            usage: """
                usage: claude-agent add --account NAME [--account-id N] [-t SECONDS] [-a SOCKET] < bundle.json
                       claude-agent add --from-file FILE [--account NAME] [--persist] [-a SOCKET]
                """,
            about: """
                Reads a token bundle as JSON from stdin and hands it to the agent:
                  {"access_token": "...", "refresh_token": "...", "expires_in": 3600,
                   "token_type": "Bearer", "scope": "user:inference user:profile"}
                refresh_token, expires_in (seconds from now; or expires_at, an RFC 3339 time such
                as 2030-01-02T15:04:05Z) and token_type are optional; scopes may be given as
                "scope" (space-joined) or "scopes" (an array); "account" may name the account.
                Any other key is ignored, and named on stderr. Adding under an existing name
                replaces that account's tokens.
                """,
            notes: """
                --account-id and -t do not go with --from-file. A bundle already expired and
                without a refresh token is refused (exit 4).
                """),
        "login": Page(
            usage: """
                usage: claude-agent login [--account NAME] [--account-id N] [--provider P] [--scope S]...
                                          [--no-browser] [--port N] [--timeout SECONDS] [-a SOCKET]
                """,
            about: """
                Logs an account in with OAuth: the agent starts a PKCE login and this command
                prints the authorize URL on stdout (and opens it with xdg-open when there is a
                display, unless --no-browser). The agent exchanges the code and keeps the
                tokens; the refresh token never leaves it.

                With a display, the provider redirects to a one-shot listener on this machine,
                exactly where the provider's configured loopback redirect_uri says (its host,
                port and path; a free port when it names none): Claude's
                http://localhost:PORT/callback, served on both 127.0.0.1 and ::1; RFC 8252's
                http://127.0.0.1:PORT/oauth/callback for providers that name none. A busy
                configured port is an error (listen_failed). With --no-browser or no display,
                a provider with a code page (Claude's
                https://platform.claude.com/oauth/code/callback) redirects there and you paste
                what it shows (code#state); with others, paste the whole callback URL the
                browser ends on, or the bare code.
                """),
        "requests": Page(
            usage: "usage: claude-agent requests [--json] [-a SOCKET]",
            about: """
                Lists the live token requests (pending or in progress): id, status, age, the
                caller's pid and executable, client name, host and scopes; every page of them.
                """),
        "approve": Page(
            usage: "usage: claude-agent approve ID --account A [--print-url] [--timeout SECONDS] [-a SOCKET]",
            about: """
                Approves token request ID with account A (a name or numeric id). When the agent
                holds a token for A covering the request's scopes, the request is approved at
                once. Otherwise the agent starts an OAuth authorization for A and asks the
                control browser to open it; with --print-url this command prints the URL
                instead. The provider redirects to this command's loopback listener (where the
                provider's configured redirect_uri says, if it names one), or a code can be
                pasted here; either way this command waits on the request itself, so it ends
                as soon as the request does, whichever way the authorization comes back (the
                bridge's callback, for one): exit 0 once approved, 6 when it ends otherwise
                (denied, cancelled, expired, failed).
                """),
        "deny": Page(
            usage: "usage: claude-agent deny ID [--reason TEXT] [-a SOCKET]",
            about: """
                Denies token request ID; whoever waits for it gets "denied".
                """),
        "logout": Page(
            usage: "usage: claude-agent logout [--account NAME] [--no-revoke] [-a SOCKET]",
            about: """
                Forgets the account (default "default") and revokes its refresh token at the
                provider when the provider has a revocation endpoint (RFC 7009). A failed
                revocation is reported but the account is forgotten anyway.
                """),
        "remove": Page(
            usage: "usage: claude-agent remove ACCOUNT [-a SOCKET]",
            about: """
                Forgets ACCOUNT (a name or numeric id) and its tokens.
                """),
        "lock": Page(
            usage: "usage: claude-agent lock [-a SOCKET]",
            about: """
                Locks the agent with a passphrase (read from the terminal without echo, or from
                stdin when it is not a terminal). While locked no token is handed out.
                """),
        "unlock": Page(
            usage: "usage: claude-agent unlock [-a SOCKET]",
            about: """
                Unlocks the agent with the passphrase given to lock. Each wrong passphrase
                delays the answer a little more.
                """),
        "token": Page(
            usage: """
                usage: claude-agent token [--scope S]... [--account A] [--json | --header] [--refresh]
                                          [--wait [--timeout SECONDS]] [-a SOCKET]
                """,
            about: """
                Prints an access token that covers the scopes, and a newline. The agent never
                hands out an expired token. When the token must be refreshed first and the
                provider is slow, the agent answers within 60 s, with its reason.

                With --refresh, the agent refreshes the token now (use it when the API refused
                the token it printed, HTTP 401): one refresh however many ask at once, and a
                refresh that ended less than 5 s ago is answered with its result.

                With --wait, when the agent holds no valid token for the scopes it makes a
                token request and this command waits (default 300 s) until someone approves it
                (claude-agent approve ID --account NAME, or the control browser) and prints the
                token; on a terminal one line shows the request id and the time waited. When
                the wait ends without a token (the time-out, Ctrl-C), the request is cancelled
                ("waiter gone"), so no one approves it for nobody.
                """,
            notes: """
                \(exitCodes)
                """),
        "exec": Page(
            usage: """
                usage: claude-agent exec [--account A] [--scope S]... [--wait [--timeout SECONDS]]
                                         [-a SOCKET] [--] COMMAND [ARGS...]
                """,
            about: """
                Gets a fresh access token from the agent, then runs COMMAND in place of this
                process (exec), with the token in CLAUDE_CODE_OAUTH_TOKEN. The exit status is
                COMMAND's (127 when it cannot be found, 126 when it cannot be run). The token
                goes in the environment, never on a command line (which every user sees in ps).

                Why that variable: Claude Code takes the first credential it finds among cloud
                provider settings, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY, apiKeyHelper,
                CLAUDE_CODE_OAUTH_TOKEN and its own login. Only CLAUDE_CODE_OAUTH_TOKEN makes it
                send the token as an OAuth token, with the anthropic-beta: oauth-2025-04-20
                header the API requires; ANTHROPIC_AUTH_TOKEN would be sent without it and
                refused. So exec removes ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY from
                COMMAND's environment, and warns when CLAUDE_CODE_USE_BEDROCK, _VERTEX or
                _FOUNDRY is set (Claude Code then uses that cloud). An apiKeyHelper in Claude
                Code's settings still wins: remove it to use the agent.

                COMMAND holds that one token: it is not refreshed while COMMAND runs, and
                an access token lives about 8 hours. For longer sessions, point COMMAND at
                the agent's local API endpoint instead, which refreshes as it goes. The
                Anthropic SDKs do not read CLAUDE_CODE_OAUTH_TOKEN: give them the token and
                headers that claude-agent token prints as JSON.
                """,
            notes: """
                \(exitCodes)
                """),
    ]
}

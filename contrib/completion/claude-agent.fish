# fish completion for claude-agent(1): commands, options, account names (from
# `claude-agent list` when an agent answers) and request ids for approve and deny (from
# `claude-agent requests`). Installed by scripts/install into
# PREFIX/share/fish/vendor_completions.d/claude-agent.fish.

set -l commands start stop serve status list add remove lock unlock token exec login logout requests approve deny bridge endpoint

# Column N of a table whose header starts with ID, passing -a SOCKET when the command line has it.
function __claude_agent_column -a command column
    set -l words (commandline -opc)
    set -l socket
    set -l index (contains -i -- -a $words)
    and set socket -a $words[(math $index + 1)]
    claude-agent $command $socket 2>/dev/null </dev/null \
        | awk -v column=$column 'NR == 1 && $1 != "ID" { exit } NR > 1 && NF { print $column }'
end

# True when the command line has no word yet after the command but options and their values.
function __claude_agent_no_positional
    set -l words (commandline -opc)
    set -e words[1..2]
    set -l skip 0
    for word in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $word
            case -a --account --account-id --timeout --reason --listen --upstream --upstream-timeout
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

complete -c claude-agent -f
complete -c claude-agent -n "not __fish_seen_subcommand_from $commands" -a "$commands"
complete -c claude-agent -n "not __fish_seen_subcommand_from $commands" -s k -d "stop the agent"
complete -c claude-agent -n "not __fish_seen_subcommand_from $commands" -l help -d "print help"
complete -c claude-agent -n "not __fish_seen_subcommand_from $commands" -l version -d "print the version"

# The options of each command, as `claude-agent COMMAND --help` lists them.
complete -c claude-agent -n "__fish_seen_subcommand_from start stop" -s s -d "print sh commands"
complete -c claude-agent -n "__fish_seen_subcommand_from start stop" -s c -d "print csh commands"
complete -c claude-agent -n "__fish_seen_subcommand_from start stop" -l fish -d "print fish commands"
complete -c claude-agent -n "__fish_seen_subcommand_from stop" -s k -d "stop the agent"
complete -c claude-agent -n "__fish_seen_subcommand_from $commands" -s a -r -F -d "the agent's socket"
complete -c claude-agent -n "__fish_seen_subcommand_from start serve add" -s t -x -d "lifetime in seconds"
for option in config import fetch-helper
    complete -c claude-agent -n "__fish_seen_subcommand_from start serve" -l $option -r -F
end
complete -c claude-agent -n "__fish_seen_subcommand_from start serve" -l persist -r -F -d "import FILE and write rotated tokens back"
for option in skew import-account callback-url idle-timeout refresh-timeout
    complete -c claude-agent -n "__fish_seen_subcommand_from start serve" -l $option -x
end
complete -c claude-agent -n "__fish_seen_subcommand_from start serve" -l refresh-ahead -d "refresh tokens before they expire"
complete -c claude-agent -n "__fish_seen_subcommand_from start serve" -l no-forward -d "refuse connections forwarded through ssh"
complete -c claude-agent -n "__fish_seen_subcommand_from status list requests" -l json -d "print JSON"
complete -c claude-agent -n "__fish_seen_subcommand_from add token exec login logout approve endpoint" -l account -x -a "(__claude_agent_column list 2)" -d "account"
complete -c claude-agent -n "__fish_seen_subcommand_from add login" -l account-id -x
complete -c claude-agent -n "__fish_seen_subcommand_from add" -l from-file -r -F -d "import a credentials file"
complete -c claude-agent -n "__fish_seen_subcommand_from add" -l persist -d "write rotated tokens back to the file"
complete -c claude-agent -n "__fish_seen_subcommand_from token exec login" -l scope -x -d "an OAuth scope the token must cover (repeatable)"
complete -c claude-agent -n "__fish_seen_subcommand_from token" -l json -d "print the bundle as JSON"
complete -c claude-agent -n "__fish_seen_subcommand_from token" -l header -d "print every header line the token needs"
complete -c claude-agent -n "__fish_seen_subcommand_from token" -l refresh -d "refresh the token now: the one held was refused"
complete -c claude-agent -n "__fish_seen_subcommand_from token exec" -l wait -d "ask for approval when no token is held"
complete -c claude-agent -n "__fish_seen_subcommand_from token exec login approve" -l timeout -x -d "seconds to wait before giving up"
complete -c claude-agent -n "__fish_seen_subcommand_from login" -l provider -x
complete -c claude-agent -n "__fish_seen_subcommand_from login" -l no-browser -d "only print the URL"
complete -c claude-agent -n "__fish_seen_subcommand_from login" -l port -x
complete -c claude-agent -n "__fish_seen_subcommand_from logout" -l no-revoke -d "do not revoke the refresh token"
complete -c claude-agent -n "__fish_seen_subcommand_from approve" -l print-url -d "print the authorize URL"
complete -c claude-agent -n "__fish_seen_subcommand_from deny" -l reason -x
complete -c claude-agent -n "__fish_seen_subcommand_from bridge endpoint" -l listen -x
complete -c claude-agent -n "__fish_seen_subcommand_from endpoint" -l upstream -x -d "the API to forward to"
complete -c claude-agent -n "__fish_seen_subcommand_from endpoint" -l upstream-timeout -x -d "seconds the upstream may stay silent"
complete -c claude-agent -n "__fish_seen_subcommand_from endpoint" -s V -l version -d "print the version"

# Arguments: request ids for approve and deny, accounts for remove.
complete -c claude-agent -n "__fish_seen_subcommand_from approve deny; and __claude_agent_no_positional" -a "(__claude_agent_column requests 1)"
complete -c claude-agent -n "__fish_seen_subcommand_from remove; and __claude_agent_no_positional" -a "(__claude_agent_column list 2)"

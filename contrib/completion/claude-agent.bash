# bash completion for claude-agent(1): commands, options, account names (from
# `claude-agent list` when an agent answers) and request ids for approve and deny (from
# `claude-agent requests`). Installed by scripts/install into
# PREFIX/share/bash-completion/completions/claude-agent; also works when sourced.

_claude_agent_commands="start stop serve status list add remove lock unlock token exec login logout requests approve deny bridge endpoint"

# The options of each command, as `claude-agent COMMAND --help` lists them.
_claude_agent_options() {
    case "$1" in
        start) echo "-s -c --fish -a -t --config --refresh-ahead --skew --import --persist --import-account --callback-url --idle-timeout --fetch-helper --refresh-timeout --no-forward" ;;
        stop) echo "-s -c --fish -a -k" ;;
        serve) echo "-a -t --skew --config --refresh-ahead --import --persist --import-account --callback-url --idle-timeout --fetch-helper --refresh-timeout --no-forward" ;;
        status|list|requests) echo "--json -a" ;;
        add) echo "--account --account-id -t --from-file --persist -a" ;;
        remove|lock|unlock) echo "-a" ;;
        token) echo "--scope --account --json --header --refresh --wait --timeout -a" ;;
        exec) echo "--account --scope --wait --timeout -a" ;;
        login) echo "--account --account-id --provider --scope --no-browser --port --timeout -a" ;;
        logout) echo "--account --no-revoke -a" ;;
        approve) echo "--account --print-url --timeout -a" ;;
        deny) echo "--reason -a" ;;
        bridge) echo "--listen -a" ;;
        endpoint) echo "--listen --account --upstream --upstream-timeout -a -V --version" ;;
    esac
}

# Column 2 (accounts) or 1 (requests) of a table whose header starts with ID; nothing when
# no agent answers. Arguments after the first are passed on (-a SOCKET).
_claude_agent_column() {
    local command="$1" column="$2"
    shift 2
    claude-agent "$command" "$@" 2>/dev/null </dev/null \
        | awk -v column="$column" 'NR == 1 && $1 != "ID" { exit } NR > 1 && NF { print $column }'
}

_claude_agent() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$_claude_agent_commands -k --help --version" -- "$cur"))
        return 0
    fi
    local command="${COMP_WORDS[1]}" i positionals=0
    local -a socket=()
    for (( i = 2; i < COMP_CWORD; i++ )); do
        case "${COMP_WORDS[i]}" in
            -a) socket=(-a "${COMP_WORDS[i+1]}"); (( i++ )) ;;
            --account|--account-id|--config|--import|--import-account|--callback-url|--idle-timeout|--fetch-helper| \
            --skew|-t|--scope|--timeout|--provider|--port|--reason|--listen|--from-file|--refresh-timeout| \
            --upstream|--upstream-timeout) (( i++ )) ;;
            --persist) [ "$command" = add ] || (( i++ )) ;;
            -*) ;;
            *) (( positionals++ )) ;;
        esac
    done
    case "$prev" in
        --account)
            COMPREPLY=($(compgen -W "$(_claude_agent_column list 2 "${socket[@]}")" -- "$cur"))
            return 0 ;;
        -a|--config|--import|--from-file|--fetch-helper)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0 ;;
        --persist)
            if [ "$command" != add ]; then
                COMPREPLY=($(compgen -f -- "$cur"))
                return 0
            fi ;;
        -t|--skew|--idle-timeout|--refresh-timeout|--timeout|--port|--account-id|--scope|--provider|--reason|--listen|--callback-url|--import-account| \
        --upstream|--upstream-timeout)
            return 0 ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_claude_agent_options "$command")" -- "$cur"))
        return 0
    fi
    case "$command" in
        approve|deny)
            [ "$positionals" -eq 0 ] && COMPREPLY=($(compgen -W "$(_claude_agent_column requests 1 "${socket[@]}")" -- "$cur")) ;;
        remove)
            [ "$positionals" -eq 0 ] && COMPREPLY=($(compgen -W "$(_claude_agent_column list 2 "${socket[@]}")" -- "$cur")) ;;
    esac
    return 0
}

complete -F _claude_agent claude-agent

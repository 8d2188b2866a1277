# bash completion for cwexport                               -*- shell-script -*-
_cwexport()
{
    local cur prev words cword
    _init_completion || return

    local commands="validate plan run status cancel whoami bucket-policy sfn doctor"
    local global="--region --profile --log-format -v -q --version --help"

    case $prev in
        -c | --config | --summary | --events | --metrics | -o | --output)
            _filedir
            return
            ;;
        --log-format)
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
            return
            ;;
        --format | -f)
            COMPREPLY=($(compgen -W "table json csv markdown html" -- "$cur"))
            return
            ;;
        --progress)
            COMPREPLY=($(compgen -W "auto live json none" -- "$cur"))
            return
            ;;
        --profile)
            local profiles
            profiles=$(sed -n 's/^\[\(profile \)\{0,1\}\([^] ]*\)\].*/\2/p' \
                "${AWS_CONFIG_FILE:-$HOME/.aws/config}" \
                "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" 2>/dev/null)
            COMPREPLY=($(compgen -W "$profiles" -- "$cur"))
            return
            ;;
        --region | --now)
            return
            ;;
    esac

    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            validate | plan | run | status | cancel | whoami | bucket-policy | sfn | doctor)
                cmd=${words[i]}
                break
                ;;
        esac
    done

    local opts
    case $cmd in
        "") opts="$global $commands" ;;
        validate | bucket-policy | whoami) opts="-c --config --help" ;;
        plan) opts="-c --config --offline --format -o --output --help" ;;
        run) opts="-c --config --summary --events --metrics --cancel-on-exit --progress --help" ;;
        status) opts="-c --config --json --help" ;;
        cancel) opts="-c --config --dry-run --json --help" ;;
        doctor) opts="-c --config --publish-test --format --help" ;;
        sfn) opts="-c --config -o --output --offline --max-windows --help" ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
    complete -F _cwexport cwexport

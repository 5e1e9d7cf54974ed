# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_jot_config_global_optspecs
    string join \n color= q/quiet v/verbose h/help V/version
end

function __fish_jot_config_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_jot_config_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_jot_config_using_subcommand
    set -l cmd (__fish_jot_config_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c jot-config -n "__fish_jot_config_needs_command" -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-config -n "__fish_jot_config_needs_command" -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-config -n "__fish_jot_config_needs_command" -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-config -n "__fish_jot_config_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-config -n "__fish_jot_config_needs_command" -s V -l version -d 'Print version'
complete -c jot-config -n "__fish_jot_config_needs_command" -f -a "import" -d 'Print a jot.toml for the bash predecessor\'s config.json (julia-aws-lambda-image)'
complete -c jot-config -n "__fish_jot_config_needs_command" -f -a "check" -d 'Check a jot.toml: unknown keys and bad types are one line naming the file, line and key'
complete -c jot-config -n "__fish_jot_config_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c jot-config -n "__fish_jot_config_using_subcommand import" -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-config -n "__fish_jot_config_using_subcommand import" -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-config -n "__fish_jot_config_using_subcommand import" -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-config -n "__fish_jot_config_using_subcommand import" -s h -l help -d 'Print help'
complete -c jot-config -n "__fish_jot_config_using_subcommand check" -l env-name -d 'Check this named section ([env.NAME]) too' -r
complete -c jot-config -n "__fish_jot_config_using_subcommand check" -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-config -n "__fish_jot_config_using_subcommand check" -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-config -n "__fish_jot_config_using_subcommand check" -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-config -n "__fish_jot_config_using_subcommand check" -s h -l help -d 'Print help'
complete -c jot-config -n "__fish_jot_config_using_subcommand help; and not __fish_seen_subcommand_from import check help" -f -a "import" -d 'Print a jot.toml for the bash predecessor\'s config.json (julia-aws-lambda-image)'
complete -c jot-config -n "__fish_jot_config_using_subcommand help; and not __fish_seen_subcommand_from import check help" -f -a "check" -d 'Check a jot.toml: unknown keys and bad types are one line naming the file, line and key'
complete -c jot-config -n "__fish_jot_config_using_subcommand help; and not __fish_seen_subcommand_from import check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

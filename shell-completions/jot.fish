complete -c jot -l list -d 'List the jot subcommands (jot-* executables) found beside jot and on PATH'
complete -c jot -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot -s V -l version -d 'Print version'

complete -c jot -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot -l list -d 'List the jot subcommands (jot-* executables) found beside jot and on PATH'
complete -c jot -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot -s V -l version -d 'Print version'

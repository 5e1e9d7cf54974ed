complete -c jot-logs -l since -d 'From when: a span back from now (30s, 10m, 1h, 2d) or a time (2026-12-06T09:00:00Z)' -r
complete -c jot-logs -l filter -d 'CloudWatch Logs filter pattern [e.g. --filter ERROR, --filter \'"cold path"\']' -r
complete -c jot-logs -l version -d 'Only events of this version ($LATEST or a number); -V prints jot-logs\'s own version' -r
complete -c jot-logs -l alias -d 'Only events of the version(s) this alias points at' -r
complete -c jot-logs -l profile -d 'AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats AWS_PROFILE and jot.toml\'s `profile` [e.g. --profile prod]' -r
complete -c jot-logs -l region -d 'AWS region; beats AWS_REGION, jot.toml\'s `region` and the profile\'s [e.g. --region eu-west-1]' -r
complete -c jot-logs -l config -d 'Settings file [default: jot.toml beside the responder]' -r -F
complete -c jot-logs -l env-name -d 'Use the file\'s section [env.NAME] over its top-level keys' -r
complete -c jot-logs -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-logs -s f -l follow -d 'Keep printing new events as they come, until Ctrl-C (exit 130)'
complete -c jot-logs -s V -d 'Print version'
complete -c jot-logs -l json -d 'Print one JSON record per event (NDJSON), REPORT figures parsed'
complete -c jot-logs -l cold-starts -d 'Print only the REPORT lines of cold starts, with their init times'
complete -c jot-logs -l show-config -d 'Print the settings in effect (JSON, after flags, environment and file) and exit'
complete -c jot-logs -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-logs -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-logs -s h -l help -d 'Print help (see more with \'--help\')'

complete -c jot-push -l registry -d 'Push to this registry host instead of the one ECR reports (emulators, proxies)' -r
complete -c jot-push -l profile -d 'AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats AWS_PROFILE and jot.toml\'s `profile` [e.g. --profile prod]' -r
complete -c jot-push -l region -d 'AWS region; beats AWS_REGION, jot.toml\'s `region` and the profile\'s [e.g. --region eu-west-1]' -r
complete -c jot-push -l config -d 'Settings file [default: jot.toml beside the responder]' -r -F
complete -c jot-push -l env-name -d 'Use the file\'s section [env.NAME] over its top-level keys' -r
complete -c jot-push -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-push -l scan-on-push -d 'Scan images for vulnerabilities on push (sets the repository\'s scan-on-push)'
complete -c jot-push -l immutable-tags -d 'Make the repository\'s tags immutable (a tag can never point at another image)'
complete -c jot-push -l force -d 'Push into an existing repository that jot did not create'
complete -c jot-push -l show-config -d 'Print the settings in effect (JSON, after flags, environment and file) and exit'
complete -c jot-push -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-push -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-push -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-push -s V -l version -d 'Print version'

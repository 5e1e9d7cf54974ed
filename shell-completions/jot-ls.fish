complete -c jot-ls -l concurrency -d 'AWS calls in flight at most' -r
complete -c jot-ls -l profile -d 'AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats AWS_PROFILE and jot.toml\'s `profile` [e.g. --profile prod]' -r
complete -c jot-ls -l region -d 'AWS region; beats AWS_REGION, jot.toml\'s `region` and the profile\'s [e.g. --region eu-west-1]' -r
complete -c jot-ls -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-ls -l remote -d 'Also list ECR repositories and Lambda functions (AWS\'s standard settings)'
complete -c jot-ls -l all-versions -d 'One line per local image, ECR image, published version and alias'
complete -c jot-ls -l all -d 'Also show resources jot did not make, marked foreign'
complete -c jot-ls -l json -d 'Print one descriptor per jot (NDJSON) for jot-invoke, jot-deploy and jot-rm'
complete -c jot-ls -l show-config -d 'Print the settings in effect (JSON, after flags and environment) and exit'
complete -c jot-ls -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-ls -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-ls -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-ls -s V -l version -d 'Print version'

complete -c jot-deploy -l role -d 'Execution role [default: jot-lambda-basic-execution, created once with only AWSLambdaBasicExecutionRole]' -r
complete -c jot-deploy -l memory -d 'Memory in MB (128 to 10240)' -r
complete -c jot-deploy -l timeout -d 'Timeout in seconds (1 to 900)' -r
complete -c jot-deploy -l env -d 'Environment variable (NAME=VALUE, repeatable); given ones replace all the function\'s variables' -r
complete -c jot-deploy -l architecture -d 'Instruction set of the function; must be the image\'s [default: the image\'s]' -r -f -a "x86_64\t''
arm64\t''"
complete -c jot-deploy -l ephemeral-storage -d 'Size of /tmp in MB (512 to 10240)' -r
complete -c jot-deploy -l description -d 'Description of the function (up to 256 characters)' -r
complete -c jot-deploy -l alias -d 'Create this alias, or move it, to the published version' -r
complete -c jot-deploy -l config -d 'Settings file [default: jot.toml beside the responder]' -r -F
complete -c jot-deploy -l env-name -d 'Use the file\'s section [env.NAME] over its top-level keys' -r
complete -c jot-deploy -l profile -d 'AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats AWS_PROFILE and jot.toml\'s `profile` [e.g. --profile prod]' -r
complete -c jot-deploy -l region -d 'AWS region; beats AWS_REGION, jot.toml\'s `region` and the profile\'s [e.g. --region eu-west-1]' -r
complete -c jot-deploy -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-deploy -l snapstart -d 'Turn on SnapStart: each published version is initialised (with its warm-up) and snapshotted at publish, and cold starts restore the snapshot. $LATEST is never snap-started'
complete -c jot-deploy -l force -d 'Change a function (or use a role) that jot did not create'
complete -c jot-deploy -l show-config -d 'Print the settings in effect (JSON, after flags, environment and file) and exit'
complete -c jot-deploy -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-deploy -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-deploy -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-deploy -s V -l version -d 'Print version'

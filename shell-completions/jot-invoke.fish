complete -c jot-invoke -l image -d 'Local image to run instead of descriptors on stdin' -r
complete -c jot-invoke -l function-name -d 'Lambda function to invoke instead of descriptors on stdin' -r
complete -c jot-invoke -l payload -d 'Event to send (JSON); repeat the flag to send several in turn [default: jot.toml\'s test_payload, else {}]' -r
complete -c jot-invoke -l payload-file -d 'Read the event (JSON) from a file' -r -F
complete -c jot-invoke -l expect -d 'Response every invocation must give (JSON); exit 4 otherwise' -r
complete -c jot-invoke -l timeout -d 'Seconds an invocation may run before it is stopped (local) or abandoned [default: jot.toml\'s timeout, else 30]' -r
complete -c jot-invoke -l repeat -d 'Send each payload N times (to the same warm sandbox)' -r
complete -c jot-invoke -l qualifier -d 'Version number or alias of the Lambda function to invoke [default: $LATEST]' -r
complete -c jot-invoke -l memory -d 'Memory of the local sandbox in MB [default: jot.toml\'s memory, else 1024]' -r
complete -c jot-invoke -l init-type -d 'Local AWS_LAMBDA_INITIALIZATION_TYPE (snap-start: the SnapStart hooks, no real snapshot)' -r -f -a "on-demand\t''
provisioned-concurrency\t''
snap-start\t''"
complete -c jot-invoke -l env -d 'Environment variable for the local sandbox (NAME=VALUE, repeatable)' -r
complete -c jot-invoke -l profile -d 'AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats AWS_PROFILE and jot.toml\'s `profile` [e.g. --profile prod]' -r
complete -c jot-invoke -l region -d 'AWS region; beats AWS_REGION, jot.toml\'s `region` and the profile\'s [e.g. --region eu-west-1]' -r
complete -c jot-invoke -l config -d 'Settings file [default: jot.toml beside the responder]' -r -F
complete -c jot-invoke -l env-name -d 'Use the file\'s section [env.NAME] over its top-level keys' -r
complete -c jot-invoke -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-invoke -l local -d 'Run the image in the local Docker engine even for deployed functions'
complete -c jot-invoke -l json -d 'Print timings as JSON on stderr: init, first response, warm p50/p99 and (local) the cold start split into container, Julia start, runtime, responder, warm-up, first response'
complete -c jot-invoke -l logs -d 'Print the function\'s logs on stderr'
complete -c jot-invoke -l show-config -d 'Print the settings in effect (JSON, after flags, environment and file) and exit'
complete -c jot-invoke -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-invoke -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-invoke -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-invoke -s V -l version -d 'Print version'

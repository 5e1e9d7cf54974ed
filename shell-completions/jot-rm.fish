complete -c jot-rm -l only -d 'Remove only this part of each jot' -r -f -a "local\t''
ecr\t''
function\t''
versions\t''"
complete -c jot-rm -l keep -d 'Keep the N newest versions, ECR images and local images (and what they pin)' -r
complete -c jot-rm -l profile -d 'AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats AWS_PROFILE and jot.toml\'s `profile` [e.g. --profile prod]' -r
complete -c jot-rm -l region -d 'AWS region; beats AWS_REGION, jot.toml\'s `region` and the profile\'s [e.g. --region eu-west-1]' -r
complete -c jot-rm -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-rm -l dry-run -d 'Print the plan, in order, and change nothing'
complete -c jot-rm -s y -l yes -d 'Do not ask before deleting (required without a terminal)'
complete -c jot-rm -l force -d 'Also remove resources that jot did not make'
complete -c jot-rm -l show-config -d 'Print the settings in effect (JSON, after flags and environment) and exit'
complete -c jot-rm -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-rm -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-rm -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-rm -s V -l version -d 'Print version'

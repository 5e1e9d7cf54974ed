complete -c jot-push -l registry -d 'Push to this registry host instead of the one ECR reports (emulators, proxies)' -r
complete -c jot-push -l scan-on-push -d 'Scan images for vulnerabilities on push (sets the repository\'s scan-on-push)'
complete -c jot-push -l immutable-tags -d 'Make the repository\'s tags immutable (a tag can never point at another image)'
complete -c jot-push -l force -d 'Push into an existing repository that jot did not create'
complete -c jot-push -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-push -s V -l version -d 'Print version'

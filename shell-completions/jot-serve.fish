complete -c jot-serve -l bind -d 'Address to listen on; anything but loopback exposes your functions [default: jot.toml\'s [serve], else 127.0.0.1]' -r
complete -c jot-serve -l port -d 'Port to listen on, 0 picks a free one [default: jot.toml\'s [serve], else 9001]' -r
complete -c jot-serve -l max-concurrency -d 'Reserved concurrency: invocations of a function running at once; beyond it, 429 [default: jot.toml\'s [serve], else 4]' -r
complete -c jot-serve -l queue -d 'Requests beyond --max-concurrency that wait for a slot instead of a 429' -r
complete -c jot-serve -l min-instances -d 'Provisioned concurrency: sandboxes initialised before the first request' -r
complete -c jot-serve -l idle-timeout -d 'Seconds an idle sandbox (beyond --min-instances) is kept warm' -r
complete -c jot-serve -l timeout -d 'Seconds an invocation may run [default: the descriptor\'s, jot.toml\'s [serve], else 30]' -r
complete -c jot-serve -l memory -d 'Memory of each sandbox in MB [default: the descriptor\'s, jot.toml\'s [serve], else 1024]' -r
complete -c jot-serve -l cpus -d 'CPUs of each sandbox [default: the descriptor\'s, jot.toml\'s [serve], else memory / 1769 MB, as Lambda; 0: no limit]' -r
complete -c jot-serve -l pids-limit -d 'Most processes a sandbox may run [default: the descriptor\'s, jot.toml\'s [serve], else the engine\'s]' -r
complete -c jot-serve -l event-queue -d 'Event invocations that may wait per function; beyond it, 429' -r
complete -c jot-serve -l dead-letter -d 'File receiving one NDJSON record per Event invocation that failed all 3 attempts' -r -F
complete -c jot-serve -l event-retry-delay -d 'Milliseconds before the first Event retry (the second waits twice as long)' -r
complete -c jot-serve -l credentials-file -d 'Where to write the control plane\'s credentials (an AWS credentials file, profile jot-serve, mode 0600, removed at exit) [default: $XDG_STATE_HOME/jot/serve/PORT.credentials]' -r -F
complete -c jot-serve -l function-error-status -d 'HTTP status of a function error: 200 with X-Amz-Function-Error as Lambda answers, or e.g. 500 for proxies that look only at the status (MiniStack) [default: jot.toml\'s [serve], else 200]' -r
complete -c jot-serve -l env -d 'Environment variable for the functions (NAME=VALUE, repeatable; over the descriptor\'s and jot.toml\'s)' -r
complete -c jot-serve -l config -d 'Settings file [default: jot.toml beside the responder]' -r -F
complete -c jot-serve -l env-name -d 'Use the file\'s section [env.NAME] over its top-level keys' -r
complete -c jot-serve -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-serve -l watch -d 'Rebuild a function when its responder source changes and roll out the new version'
complete -c jot-serve -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-serve -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-serve -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-serve -s V -l version -d 'Print version'

complete -c jot-build -l function -d 'Function to call [default: the script\'s stem or the package\'s name]' -r
complete -c jot-build -l arg-type -d 'Julia type the event is converted to, e.g. \'Vector{Int}\' [default: Any]' -r
complete -c jot-build -l name -d 'Image repository and Lambda function name [default: from the function]' -r
complete -c jot-build -l tag -d 'Image tag [default: a hash of the responder, runtime and base image]' -r
complete -c jot-build -l base-image -d 'Base image with Julia [default: julia:<julia-version>]' -r
complete -c jot-build -l julia-version -d 'Julia release of the official base image [default: 1.12]' -r
complete -c jot-build -l architecture -d 'Instruction set; the base image must have it [default: the base image\'s]' -r -f -a "x86_64\t''
arm64\t''"
complete -c jot-build -l dep -d 'Package a script uses, Name or Name@version (repeatable), installed in a cached layer' -r
complete -c jot-build -l registry-url -d 'Julia registry to add before installing dependencies (repeatable), e.g. a private one' -r
complete -c jot-build -l build-arg -d 'Variable for the dependency install steps (NAME=VALUE, repeatable); kept in the image history' -r
complete -c jot-build -l test-payload -d 'Run the built image with this event (JSON) and fail the build on an error; repeat the flag to send several in turn (with --compile: the exemplar events)' -r
complete -c jot-build -l expect -d 'The response the --test-payload in the same position must give (JSON; repeatable)' -r
complete -c jot-build -l test-timeout -d 'Seconds the test invocation may take, init included [default: 120]' -r
complete -c jot-build -l warmup-payload -d 'Event (JSON) the runtime sends through the function in init, answer discarded, so the first request finds it compiled; in inits off the request path (provisioned concurrency, SnapStart) unless --warmup-always. A failing warm-up is an init error' -r
complete -c jot-build -l config -d 'Settings file [default: jot.toml beside the responder]' -r -F
complete -c jot-build -l env-name -d 'Use the file\'s section [env.NAME] over its top-level keys' -r
complete -c jot-build -l color -d 'When to colour output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c jot-build -l compile -d 'Compile the responder ahead: run the --test-payloads through the built image, trace what they compile and bake it, with the runtime, into a system image (Julia < 1.9) or a package image (Julia >= 1.9) in the image\'s last layers, so the first request compiles none of it. A compiled build takes 1 to 1.5 minutes on 2 cores (the default build: about 2 s for a script)'
complete -c jot-build -l compile-tests -d 'With --compile (implied), also run a package\'s test/runtests.jl while compiling'
complete -c jot-build -l full-sysimage -d 'Start Julia from its full default system image plus the runtime, as before the lean one became the default: every stdlib of Julia\'s image is loaded at each start (Julia 1.5, measured: jot\'s layers +209 MB instead of +70 MB, Julia\'s start about 220 ms instead of 130 ms), but stdlibs such as LinearAlgebra are native code instead of caches compiled at the first request (1-2 s): for code that uses them'
complete -c jot-build -l self-test -d 'Without --test-payload, still start the built image once (about 0.5 s) and fail the build if loading the responder would precompile anything again at every cold start, or if its init takes longer than Lambda\'s 10 s init budget (as with --test-payload)'
complete -c jot-build -l warmup-always -d 'Warm up in every init, on-demand cold starts included'
complete -c jot-build -l show-config -d 'Print the settings in effect (JSON, after flags, environment and file) and exit'
complete -c jot-build -l pull -d 'Pull the base image (needed when the engine does not have it; refreshes it otherwise)'
complete -c jot-build -l force -d 'Replace a local image NAME:TAG that jot did not build'
complete -c jot-build -s q -l quiet -d 'Print only warnings and errors on stderr'
complete -c jot-build -s v -l verbose -d 'Print more detail on stderr (each build step, each AWS call)'
complete -c jot-build -s h -l help -d 'Print help (see more with \'--help\')'
complete -c jot-build -s V -l version -d 'Print version'

# ════════════════════════════════════════════════════════════════════════════════
# The build-time self-test (JOT_SELF_TEST=<exemplar event>, set by jot-build's test
# run): load the responder, push the exemplar through conversion, the function and
# JSON, and fail init if anything was precompiled again at run time: a cache file
# Julia rejected (wrong CPU target, stale, another Julia), or any file in the
# writable depot's `compiled` directory, which stays empty when every cache the
# image carries is used. On Lambda that work would be repeated at every cold start.
# ════════════════════════════════════════════════════════════════════════════════

self_test_payload() = get(ENV, "JOT_SELF_TEST", "")

# JOT_SELF_TEST_LOAD=1 (jot-build --self-test without a test event): the check
# of the caches after loading the responder, no event.
self_test_load() = get(ENV, "JOT_SELF_TEST_LOAD", "") == "1"

"""Records what Julia's loading code says about caches (its `loading` debug
messages and "Precompiling …"), passing warnings and errors on to stderr."""
struct CacheLog <: Base.CoreLogging.AbstractLogger
    messages::Vector{String}
end

Base.CoreLogging.min_enabled_level(::CacheLog) = Base.CoreLogging.Debug
Base.CoreLogging.shouldlog(::CacheLog, args...) = true
Base.CoreLogging.catch_exceptions(::CacheLog) = true

function Base.CoreLogging.handle_message(log::CacheLog, level, message, _module, group, id,
                                         file, line; kwargs...)
    text = string(message)
    if occursin(r"Rejecting cache|Precompiling|precompil"i, text)
        push!(log.messages, text)
    elseif level >= Base.CoreLogging.Warn
        println(stderr, "[jot] ", level, ": ", text)
    end
    return nothing
end

# Files under the writable depot's compiled/ directory (the first depot).
function rebuilt_caches()
    isempty(DEPOT_PATH) && return String[]
    dir = joinpath(DEPOT_PATH[1], "compiled")
    isdir(dir) || return String[]
    files = String[]
    for (root, _, names) in walkdir(dir), name in names
        push!(files, joinpath(root, name))
    end
    return files
end

function self_test(f, ::Type{T}, takes_ctx::Bool, cfg::Config, payload::String,
                   log::CacheLog) where {T}
    try
        Base.CoreLogging.with_logger(log) do
            Base.invokelatest(warm_call, f, T, takes_ctx, cfg, payload)
        end
    catch e
        e isa InterruptException && rethrow()
        throw(InitFailure("Runtime.SelfTestFailed",
                          "self-test: the exemplar event $(abbreviate(payload, 200)) failed: " *
                          sprint(showerror, e)))
    end
    check_caches(log)
    return nothing
end

"""Fails init (Runtime.SelfTestFailed) when loading rebuilt a cache: Julia rejected
one the image carries, or wrote one into the writable depot."""
function check_caches(log::CacheLog)
    files = rebuilt_caches()
    if !isempty(log.messages) || !isempty(files)
        what = vcat(log.messages, ["wrote $f" for f in files])
        throw(InitFailure("Runtime.SelfTestFailed",
                          "self-test: code would be precompiled again at every cold start " *
                          "(the image's caches were not used): " * join(what[1:min(end, 5)], "; ")))
    end
    println(stderr, "[jot] self-test passed: no cache rebuilt at run time (depot ",
            DEPOT_PATH[1], ")")
    return nothing
end

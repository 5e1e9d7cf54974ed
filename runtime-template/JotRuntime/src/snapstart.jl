# ════════════════════════════════════════════════════════════════════════════════
# SnapStart (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start): after init and warm-up the
# runtime runs the before-snapshot hooks, asks GET /runtime/restore/next (Lambda
# snapshots the sandbox there and answers after a restore), then runs the
# after-restore hooks and enters the /next loop. A failing before-snapshot hook is
# an init error; a failing after-restore hook goes to /runtime/restore/error.
# ════════════════════════════════════════════════════════════════════════════════

const BEFORE_SNAPSHOT = Any[]
const AFTER_RESTORE = Any[]

"""
    register_before_snapshot(f)

Call `f()` once init is done, just before Lambda snapshots the sandbox (SnapStart
only): close connections, flush what must not be restored twice. Returns `f`.
"""
register_before_snapshot(f) = (push!(BEFORE_SNAPSHOT, f); f)

"""
    register_after_restore(f)

Call `f()` after each restore from a snapshot, before the first event (SnapStart
only): re-open connections, refresh credentials, drop anything bound to the time
of the snapshot. The runtime itself re-seeds Julia's random number generators and
reconnects to the Runtime API first. Returns `f`.
"""
register_after_restore(f) = (push!(AFTER_RESTORE, f); f)

snap_start() = get(ENV, "AWS_LAMBDA_INITIALIZATION_TYPE", "") == "snap-start"

struct HookFailure <: Exception
    errortype::String
    msg::String
    frames::Vector{String}
end

function run_hooks(hooks::Vector{Any}, when::String, errortype::String)
    for (i, hook) in enumerate(hooks)
        try
            Base.invokelatest(hook)
        catch e
            e isa InterruptException && rethrow()
            throw(HookFailure(errortype, "the $when hook #$i ($(repr(hook))) failed: " *
                                         sprint(showerror, e),
                              user_frames(catch_backtrace(), :run_hooks)))
        end
    end
end

# Every sandbox restored from one snapshot would otherwise draw the same numbers.
# Random is loaded only if someone uses it; then its global RNG is re-seeded.
function reseed_rngs()
    random = Base.PkgId(Base.UUID("9a3f8284-a2c9-5f02-9a11-845980a1fd5c"), "Random")
    mod = get(Base.loaded_modules, random, nothing)
    mod === nothing || Base.invokelatest(getfield(mod, :seed!))
    return nothing
end

function post_restore_error(c::Conn, fail::HookFailure)
    log_error("", fail.errortype, fail.msg, fail.frames)
    try
        request!(c, "POST", "$(c.base)/restore/error",
                 error_body(fail.errortype, fail.msg, fail.frames), fail.errortype)
    catch e
        println(stderr, "[jot] could not post the restore error: ", sprint(showerror, e))
    end
    return nothing
end

"""
    snapshot_and_restore(c)

The SnapStart part of init: before-snapshot hooks, `GET /runtime/restore/next`, then
(in the restored sandbox) a fresh connection, re-seeded RNGs and the after-restore
hooks. Exits the process on a failure, after reporting it.
"""
function snapshot_and_restore(c::Conn)
    try
        run_hooks(BEFORE_SNAPSHOT, "before-snapshot", "Runtime.BeforeSnapshotError")
    catch e
        e isa HookFailure || rethrow()
        post_error(c, "", e.errortype, e.errortype, e.msg, e.frames)
        exit(1)
    end
    resp = request!(c, "GET", "$(c.base)/restore/next", EMPTY, "")
    if resp.status != 200
        println(stderr, "[jot] /restore/next returned HTTP $(resp.status): ",
                abbreviate(String(copy(resp.body)), 500), "; going on as restored")
    end
    println(stderr, "[jot] restored from a snapshot")
    disconnect!(c)                  # a connection from before the snapshot is stale
    try
        reseed_rngs()
        run_hooks(AFTER_RESTORE, "after-restore", "Runtime.AfterRestoreError")
    catch e
        e isa InterruptException && rethrow()
        fail = e isa HookFailure ? e :
               HookFailure("Runtime.AfterRestoreError", sprint(showerror, e), String[])
        post_restore_error(c, fail)
        exit(1)
    end
    return nothing
end

# ════════════════════════════════════════════════════════════════════════════════
# Error reports: {"errorMessage", "errorType", "stackTrace"} to the Runtime API
# and a readable copy on stderr (the function's log).
# ════════════════════════════════════════════════════════════════════════════════

const ERROR_TYPE_RE = r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$"

"""Header value for an exception raised by the user's function: Function.<TypeName>."""
function function_error_header(errortype::String)
    h = "Function." * errortype
    return occursin(ERROR_TYPE_RE, h) ? h : "Function.Unhandled"
end

error_type_name(e) = String(nameof(typeof(e)))

# Frames of a backtrace up to (not including) the first frame of `stop` in the
# runtime's own source (SRC_DIR), or up to a script's top-level frame, so the report
# shows the user's code, not the runtime's or `include`'s.
function user_frames(bt, stop::Symbol)
    frames = String[]
    for fr in stacktrace(bt)
        (fr.func === stop && dirname(String(fr.file)) == SRC_DIR) && break
        push!(frames, string(fr))
        (fr.func === Symbol("top-level scope") || length(frames) >= 50) && break
    end
    return frames
end

function error_body(errortype::String, msg::String, frames::Vector{String})
    io = IOBuffer()
    write(io, "{\"errorMessage\":")
    write_string(io, msg)
    write(io, ",\"errorType\":")
    write_string(io, errortype)
    write(io, ",\"stackTrace\":")
    json!(io, frames)
    write(io, "}")
    return take!(io)
end

function log_error(id::String, errortype::String, msg::String, frames::Vector{String})
    io = IOBuffer()
    println(io, "[jot] ERROR", isempty(id) ? "" : " RequestId: $id", " ", errortype, ": ", msg)
    for fr in frames
        println(io, "  ", fr)
    end
    write(stderr, take!(io))
    flush(stderr)
end

# Post an error for invocation `id` ("" = the init error). `errheader` is the
# Lambda-Runtime-Function-Error-Type header, `errortype` the body's errorType.
function post_error(c::Conn, id::String, errheader::String, errortype::String, msg::String,
                    frames::Vector{String})
    msg = abbreviate(msg, 100_000)       # a huge value in an exception's message
    log_error(id, errortype, msg, frames)
    path = isempty(id) ? "$(c.base)/init/error" : "$(c.base)/invocation/$id/error"
    try
        resp = request!(c, "POST", path, error_body(errortype, msg, frames), errheader)
        200 <= resp.status < 300 ||
            println(stderr, "[jot] posting the error got HTTP $(resp.status): ", String(copy(resp.body)))
    catch e
        println(stderr, "[jot] could not post the error to the Runtime API: ", sprint(showerror, e))
    end
    return nothing
end


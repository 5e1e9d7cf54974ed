# jot-build's parse of a responder, run by jot in a throwaway container of the
# base image (no network): each file named on the command line, relative to
# files/ beside this script, is parsed statement by statement, and nothing of
# it is evaluated. For the first error of each file that does not parse, one
# line: `jot-parse-error<TAB>file<TAB>line<TAB>message`. Julia 1.5 and later.

const FILES = joinpath(@__DIR__, "files")

line_at(text, byte) = count(==(UInt8('\n')), view(codeunits(text), 1:clamp(byte - 1, 0, ncodeunits(text)))) + 1

# Blanks and comments before a statement (an unterminated `#=` stays).
const LEADING = r"\A(?:\s+|#=(?s:.*?)=#|#(?!=)[^\n]*)*"

# One line of the parser's message: a string (Julia < 1.10), or JuliaSyntax's
# ParseError with its first diagnostic.
function message_of(detail)
    # (The old parser names the statement's place as `none:N`, N counted from
    # where this parse began: the line printed beside it says where.)
    detail isa AbstractString && return "syntax: " * replace(detail, r" at none:\d+" => "")
    text = try
        "syntax: " * first(getproperty(getfield(detail, :detail), :diagnostics)).message
    catch
        sprint(showerror, detail)
    end
    return text
end

# The statement-by-statement parse `include` does: the line is where the
# parser stopped for an error, and where the statement began for input that
# ended inside it (an unclosed `function`, string or comment).
function first_error(text::String)
    pos = 1
    while pos <= ncodeunits(text)
        start = pos
        ex, pos = Meta.parse(text, start; greedy = true, raise = false)
        if Meta.isexpr(ex, :incomplete)
            began = start + length(codeunits(match(LEADING, SubString(text, start)).match))
            return line_at(text, began), message_of(ex.args[1])
        elseif Meta.isexpr(ex, :error)
            return line_at(text, pos - 1), message_of(ex.args[1])
        end
        ex === nothing && break
    end
    return nothing
end

for relative in ARGS
    text = read(joinpath(FILES, relative), String)
    found = first_error(text)
    found === nothing && continue
    line, message = found
    println("jot-parse-error\t", relative, "\t", line, "\t", strip(replace(message, r"\s+" => " ")))
end

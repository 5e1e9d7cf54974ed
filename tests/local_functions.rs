//! End to end, locally: real jot-build and jot-invoke executables, the real
//! Docker engine and real Julia (the offline 1.5 image by default), with the
//! arguments and returns of every kind the runtime converts.

use jot_tests::*;

/// Builds `code` as `file` and invokes it once with `payload`; returns (exit, stdout, stderr).
fn build_and_invoke(
    file: &str,
    code: &str,
    build_args: &[&str],
    invoke_args: &[&str],
) -> (i32, String, String) {
    let script = script(file, code);
    let descriptor = build(&script.path, build_args);
    let output = run_with_stdin(
        jot("jot-invoke").arg("--local").args(invoke_args),
        descriptor.as_bytes(),
    );
    outcome(&output)
}

fn answer(file: &str, code: &str, arg_type: &str, payload: &str) -> serde_json::Value {
    let (code_, stdout, stderr) = build_and_invoke(
        file,
        code,
        &["--arg-type", arg_type],
        &["--payload", payload],
    );
    assert_eq!(code_, 0, "invoke failed: {stderr}\n{stdout}");
    json(&stdout)
}

#[test]
fn increment_vector_answers_like_lambda() {
    let value = answer(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = map(x -> x + 1, v)\n",
        "Vector{Int}",
        "[1,2,3]",
    );
    assert_eq!(value, serde_json::json!([2, 3, 4]));
}

/// Builds each (function, arg type) of `script` and checks its answer to a payload.
fn assert_answers(script: &Script, cases: &[(&str, &str, &str, serde_json::Value)]) {
    for (function, arg_type, payload, expected) in cases {
        let descriptor = build(
            &script.path,
            &["--function", function, "--arg-type", arg_type],
        );
        let output = run_with_stdin(
            jot("jot-invoke").args(["--payload", payload]),
            descriptor.as_bytes(),
        );
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 0, "{function}: {stderr}");
        assert_eq!(&json(&stdout), expected, "{function}");
    }
}

#[test]
fn scalars_convert_both_ways() {
    let code = r#"
double_it(x::Int) = 2x
halve(x::Float64) = x / 2
shout(s::String) = uppercase(s) * "!"
negate(b::Bool) = !b
nothing_back(x) = nothing
"#;
    let script = script("scalars.jl", code);
    let cases = [
        ("double_it", "Int", "21", serde_json::json!(42)),
        ("halve", "Float64", "3", serde_json::json!(1.5)),
        ("shout", "String", "\"héllo\"", serde_json::json!("HÉLLO!")),
        ("negate", "Bool", "true", serde_json::json!(false)),
        ("nothing_back", "Any", "{}", serde_json::Value::Null),
    ];
    assert_answers(&script, &cases);
}

#[test]
fn dicts_named_tuples_and_structs() {
    let code = r#"
struct Point
    x::Float64
    y::Float64
end
struct Segment
    from::Point
    to::Point
    label::String
end
total(d::Dict{String,Int}) = Dict("total" => sum(values(d)), "keys" => sort(collect(keys(d))))
describe(p::NamedTuple{(:name, :age), Tuple{String, Int}}) = (greeting = "hi " * p.name, next_age = p.age + 1)
flip(s::Segment) = Segment(s.to, s.from, reverse(s.label))
"#;
    let script = script("shapes.jl", code);
    let cases = [
        (
            "total",
            "Dict{String,Int}",
            r#"{"a":1,"b":2,"c":39}"#,
            serde_json::json!({"total": 42, "keys": ["a","b","c"]}),
        ),
        (
            "describe",
            "NamedTuple{(:name, :age), Tuple{String, Int}}",
            r#"{"name":"Ada","age":36}"#,
            serde_json::json!({"greeting": "hi Ada", "next_age": 37}),
        ),
        (
            "flip",
            "Segment",
            r#"{"from":{"x":0,"y":1.5},"to":{"x":2,"y":3},"label":"ab"}"#,
            serde_json::json!({"from": {"x": 2.0, "y": 3.0}, "to": {"x": 0.0, "y": 1.5}, "label": "ba"}),
        ),
    ];
    assert_answers(&script, &cases);
}

#[test]
fn the_context_argument_carries_request_id_deadline_and_arn() {
    let code = r#"
whoami(event, context) = (
    request_id = context.request_id,
    arn = context.invoked_function_arn,
    deadline_ms = context.deadline_ms,
    now_ms = round(Int, time() * 1000),
    remaining_ms = remaining_time_ms(context),
    name = context.function_name,
    event = event,
)
"#;
    let (code, stdout, stderr) = build_and_invoke(
        "whoami.jl",
        code,
        &[],
        &["--payload", r#"{"k":"v"}"#, "--timeout", "20"],
    );
    assert_eq!(code, 0, "{stderr}");
    let value = json(&stdout);
    assert_eq!(value["event"], serde_json::json!({"k": "v"}));
    assert_eq!(value["name"], "whoami");
    assert_eq!(value["request_id"].as_str().unwrap().len(), 36);
    let arn = value["arn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:lambda:") && arn.ends_with(":function:whoami"),
        "{arn}"
    );
    // A real epoch deadline about 20 s ahead of the function's clock.
    let ahead = value["deadline_ms"].as_i64().unwrap() - value["now_ms"].as_i64().unwrap();
    assert!(
        (15_000..=20_000).contains(&ahead),
        "deadline is {ahead} ms ahead"
    );
    let remaining = value["remaining_ms"].as_i64().unwrap();
    assert!(
        (15_000..=20_000).contains(&remaining),
        "remaining {remaining} ms"
    );
}

#[test]
fn a_package_responder_with_stdlib_dependencies() {
    let dir = workdir();
    let _built = BuiltUnder(dir.path().to_path_buf());
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Project.toml"),
        "name = \"DayCounter\"\nuuid = \"3b1a3a7e-6d2f-4c8e-9a55-2f4a7c1d9e01\"\nversion = \"0.1.0\"\n\n[deps]\nDates = \"ade2ca70-3891-5945-98fb-dc099432e06a\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/DayCounter.jl"),
        "module DayCounter\nusing Dates\ndays_between(d::Dict{String,String}) = Dates.value(Date(d[\"to\"]) - Date(d[\"from\"]))\nend\n",
    )
    .unwrap();
    let descriptor = build(
        dir.path(),
        &[
            "--function",
            "days_between",
            "--arg-type",
            "Dict{String,String}",
        ],
    );
    let parsed = json(descriptor.trim());
    assert_eq!(parsed["responder"]["kind"], "package");
    assert_eq!(parsed["responder"]["module"], "DayCounter");
    assert_eq!(parsed["name"], "days-between");
    let output = run_with_stdin(
        jot("jot-invoke").args([
            "--payload",
            r#"{"from":"2024-02-27","to":"2024-03-02"}"#,
            "--expect",
            "4",
        ]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "4");
}

#[test]
fn expect_mismatch_exits_4_and_repeat_reuses_the_warm_sandbox() {
    let script = script(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = v .+ 1\n",
    );
    let descriptor = build(&script.path, &["--arg-type", "Vector{Int}"]);
    let output = run_with_stdin(
        jot("jot-invoke").args(["--payload", "[1]", "--expect", "[3]"]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(stdout, "[2]");
    assert!(stderr.contains("did not match --expect"), "{stderr}");

    let output = run_with_stdin(
        jot("jot-invoke").args([
            "--payload",
            "[1]",
            "--payload",
            "[10,20]",
            "--repeat",
            "5",
            "--json",
            "--expect",
            "[2]",
        ]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 4, "the second payload does not give [2]: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[..5], ["[2]"; 5]);
    assert_eq!(lines[5..], ["[11,21]"; 5]);
    let report = json(
        stderr
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("a --json report"),
    );
    assert_eq!(
        report["warm"]["count"], 9,
        "one cold and nine warm invocations in one sandbox"
    );
    assert_eq!(report["mismatches"], 5);
    assert!(report["init_ms"].as_f64().unwrap() > 0.0);
    assert!(
        report["warm"]["p50_ms"].as_f64().unwrap() < report["first_response_ms"].as_f64().unwrap()
    );
}

#[test]
fn the_front_command_runs_plugins_from_path() {
    let script = script(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = v .+ 1\n",
    );
    let output = run(jot("jot")
        .args(["build"])
        .arg(&script.path)
        .args(["--arg-type", "Vector{Int}"]));
    let (code, descriptor, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let output = run_with_stdin(
        jot("jot").args(["invoke", "--payload", "[41]"]),
        descriptor.as_bytes(),
    );
    assert_eq!(outcome(&output).1, "[42]");

    let (code, listing, _) = outcome(&run(&mut jot("jot")));
    assert_eq!(code, 0);
    for sub in ["build", "invoke", "serve"] {
        assert!(
            listing.lines().any(|l| l.starts_with(sub)),
            "{sub} missing from: {listing}"
        );
    }
    let (code, _, stderr) = outcome(&run(jot("jot").arg("no-such-plugin")));
    assert_eq!(code, 2);
    assert!(stderr.contains("no jot-no-such-plugin"), "{stderr}");
}

#[test]
fn logs_show_what_the_function_printed() {
    let code = "shout_log(s::String) = (println(\"got \", s); println(stderr, \"warn \", s); s)\n";
    let (code, stdout, stderr) = build_and_invoke(
        "shout_log.jl",
        code,
        &["--arg-type", "String"],
        &["--payload", "\"ping\"", "--logs"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "\"ping\"", "logs stay off stdout");
    assert!(
        stderr.contains("got ping") && stderr.contains("warn ping"),
        "{stderr}"
    );
}

#[test]
fn init_has_its_own_budget_before_the_timeout_starts() {
    // Loading takes 4 s, longer than the 3 s timeout: as on Lambda, init does
    // not count against the invocation (up to 10 s), and the deadline starts after it.
    let script = script(
        "slow_init.jl",
        "sleep(4)\nslow_init(x, ctx) = remaining_time_ms(ctx)\n",
    );
    let descriptor = build(&script.path, &[]);
    let output = run_with_stdin(
        jot("jot-invoke").args(["--timeout", "3", "--payload", "{}"]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stdout} {stderr}");
    let remaining = json(&stdout).as_i64().unwrap();
    assert!((1..=3000).contains(&remaining), "remaining {remaining} ms");
}

#[test]
fn the_conversion_and_serialisation_table_end_to_end() {
    let code = r#"
@enum Colour red green blue
const Fields = NamedTuple{(:grid, :pair, :tags, :maybe, :colour, :by_id),
                          Tuple{Matrix{Int}, Tuple{Int,String}, Set{String},
                                Union{Nothing,Int}, Colour, Dict{Int,String}}}
tables(nt::Fields) = (
    types = [replace(string(typeof(v)), " " => "") for v in values(nt)],
    grid = nt.grid, grid_12 = nt.grid[1, 2], pair = nt.pair,
    tags = sort(collect(nt.tags)), maybe = nt.maybe, colour = nt.colour,
    colour_value = Int(nt.colour), by_id = nt.by_id, id_sum = sum(keys(nt.by_id)),
    not_numbers = [NaN, Inf, -Inf, 1.5],
)
"#;
    let script = script("tables.jl", code);
    let descriptor = build(&script.path, &["--arg-type", "Fields"]);
    let first = r#"{"grid":[[1,2],[3,4]],"pair":[7,"seven"],"tags":["b","a","b"],"maybe":null,"colour":"green","by_id":{"1":"one","2":"two"}}"#;
    let second =
        r#"{"grid":[[5,6,7]],"pair":[8,"eight"],"tags":[],"maybe":5,"colour":2,"by_id":{}}"#;
    let output = run_with_stdin(
        jot("jot-invoke").args(["--payload", first, "--payload", second]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(json).collect();
    let types = |v: &serde_json::Value| -> Vec<String> {
        // Julia before 1.6 prints Matrix{Int64} as Array{Int64,2}.
        v["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t.as_str()
                    .unwrap()
                    .replace("Array{Int64,2}", "Matrix{Int64}")
            })
            .collect()
    };
    assert_eq!(
        types(&lines[0]),
        [
            "Matrix{Int64}",
            "Tuple{Int64,String}",
            "Set{String}",
            "Nothing",
            "Colour",
            "Dict{Int64,String}"
        ]
    );
    assert_eq!(types(&lines[1])[3], "Int64", "Union{{Nothing,Int}} of 5");
    let expected = serde_json::json!({
        "grid": [[1, 2], [3, 4]], "grid_12": 2, "pair": [7, "seven"], "tags": ["a", "b"],
        "maybe": null, "colour": "green", "colour_value": 1,
        "by_id": {"1": "one", "2": "two"}, "id_sum": 3,
        "not_numbers": [null, null, null, 1.5],
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&lines[0][key], value, "{key} in {}", lines[0]);
    }
    assert_eq!(lines[1]["grid"], serde_json::json!([[5, 6, 7]]));
    assert_eq!(lines[1]["maybe"], 5);
    assert_eq!(
        lines[1]["colour"], "blue",
        "an @enum from its integer value"
    );
    assert_eq!(lines[1]["by_id"], serde_json::json!({}));
}

//! Every error type runtime-template/README.md documents, asserted exactly:
//! the `errorType` in the body, the `Lambda-Runtime-Function-Error-Type`
//! header the emulator received (and its pattern), and the message with the
//! path to the offending value. Through the emulator library, which sees the
//! header, with real images and real Julia.

use bytes::Bytes;
use jot_emulator::{Instance, InstanceConfig, Outcome};
use jot_tests::*;

/// Lambda's pattern for the error-type header, written as the Runtime API
/// documents it (independent of the emulator's own check).
fn header_has_lambdas_shape(header: &str) -> bool {
    regex_lite::Regex::new(r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$")
        .unwrap()
        .is_match(header)
}

/// One case: a script, its build flags, extra sandbox environment, a payload.
struct Case {
    file: &'static str,
    code: &'static str,
    build: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    payload: &'static str,
    header: &'static str,
    body_type: &'static str,
    message: &'static [&'static str],
}

/// Runs a case in a fresh sandbox: (header, errorType, errorMessage).
async fn error_of(case: &Case) -> (String, String, String) {
    let script = script(case.file, case.code);
    let built = json(build(&script.path, case.build).trim());
    let image = built["local_image"]["image"].as_str().unwrap();
    let docker = jot_docker::connect().await.unwrap();
    let mut config = InstanceConfig::new(image, built["name"].as_str().unwrap());
    config.environment = case
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let instance = Instance::start(&docker, config).await.unwrap();
    let invocation = instance.invoke(Bytes::from(case.payload)).await;
    instance.stop().await;
    let outcome = invocation.unwrap().outcome;
    let Outcome::FunctionError { error_type, body } = outcome else {
        panic!("{}: expected an error, got {outcome:?}", case.file);
    };
    let body = json(std::str::from_utf8(&body).unwrap());
    (
        error_type,
        body["errorType"].as_str().unwrap_or_default().to_string(),
        body["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn assert_cases(cases: &[Case]) {
    for case in cases {
        let (header, body_type, message) = error_of(case).await;
        assert_eq!(header, case.header, "{}: header ({message})", case.file);
        assert!(header_has_lambdas_shape(&header), "{header}");
        assert_eq!(body_type, case.body_type, "{}: errorType", case.file);
        assert!(
            case.message.iter().any(|m| message.contains(m)),
            "{}: message {message:?} has none of {:?}",
            case.file,
            case.message
        );
    }
}

#[tokio::test]
async fn init_errors_have_their_documented_types() {
    let cases = [
        Case {
            file: "handler.jl",
            code: "# handler is planned\nother(x) = x\n",
            build: &[],
            env: &[],
            payload: "{}",
            header: "Runtime.HandlerNotFound",
            body_type: "Runtime.HandlerNotFound",
            message: &[
                "function handler is not defined in /var/task/handler.jl; pass --function NAME",
            ],
        },
        Case {
            // Code that parses but includes, at load time, code that does
            // not (the build parses the file itself and refuses a syntax
            // error); the place named is the responder's line that loaded it.
            file: "broken.jl",
            code: "include_string(@__MODULE__, \"broken(x) = (x +\\nfunction end end\\n\", \"generated.jl\")\n",
            build: &[],
            env: &[],
            payload: "{}",
            header: "Runtime.UserCodeSyntaxError",
            body_type: "Runtime.UserCodeSyntaxError",
            message: &["syntax error in /var/task/broken.jl:1: unexpected \"end\""],
        },
        Case {
            file: "loads.jl",
            code: "error(\"no database at load time\")\nloads(x) = x\n",
            build: &[],
            env: &[],
            payload: "{}",
            header: "Runtime.ImportModuleError",
            body_type: "Runtime.ImportModuleError",
            message: &["no database at load time"],
        },
        Case {
            file: "typed.jl",
            code: "typed(x) = x\n",
            build: &["--arg-type", "Vector{NoSuchType}"],
            env: &[],
            payload: "[1]",
            header: "Runtime.InvalidArgumentType",
            body_type: "Runtime.InvalidArgumentType",
            message: &["NoSuchType"],
        },
        Case {
            file: "moved.jl",
            code: "moved(x) = x\n",
            build: &[],
            env: &[("JOT_RESPONDER_PATH", "/var/task/nowhere.jl")],
            payload: "{}",
            header: "Runtime.ResponderNotFound",
            body_type: "Runtime.ResponderNotFound",
            message: &["/var/task/nowhere.jl"],
        },
        Case {
            file: "unset.jl",
            code: "unset(x) = x\n",
            build: &[],
            env: &[("JOT_RESPONDER_PATH", "")],
            payload: "{}",
            header: "Runtime.InitError",
            body_type: "Runtime.InitError",
            message: &["JOT_RESPONDER_PATH is not set"],
        },
    ];
    assert_cases(&cases).await;
}

#[tokio::test]
async fn invocation_errors_have_their_documented_types() {
    let segment = "struct Point\n    x::Float64\n    y::Float64\nend\nstruct Segment\n    from::Point\n    to::Point\nend\nsegment_length(s::Segment) = hypot(s.to.x - s.from.x, s.to.y - s.from.y)\n";
    let cases = [
        Case {
            file: "echo_back.jl",
            code: "echo_back(x) = x\n",
            build: &[],
            env: &[],
            payload: "{not json",
            header: "Runtime.InvalidPayload",
            body_type: "Runtime.InvalidPayload",
            message: &["the event is not valid JSON"],
        },
        Case {
            file: "segment_length.jl",
            code: segment,
            build: &["--arg-type", "Segment"],
            env: &[],
            payload: r#"{"from":{"x":0,"y":0},"to":{"x":"a","y":1}}"#,
            header: "Runtime.ConversionError",
            body_type: "Runtime.ConversionError",
            message: &["to Segment: at to.x: expected Float64, got string \"a\""],
        },
        Case {
            file: "point_of.jl",
            code: "struct Point\n    x::Int\n    y::Int\nend\npoint_of(p::Point) = p\n",
            build: &["--arg-type", "Point"],
            env: &[],
            payload: r#"{"x":1}"#,
            header: "Runtime.ConversionError",
            body_type: "Runtime.ConversionError",
            message: &[
                "cannot convert the event {\"x\":1} to Point: missing field \"y\" (required by Point)",
            ],
        },
        Case {
            file: "unwritable.jl",
            code: "struct Key end\nBase.print(io::IO, ::Key) = error(\"a Key cannot be printed\")\nBase.show(io::IO, ::Key) = error(\"a Key cannot be shown\")\nunwritable(x) = Dict(Key() => 1)\n",
            build: &[],
            env: &[],
            payload: "{}",
            header: "Runtime.SerializationError",
            body_type: "Runtime.SerializationError",
            message: &["the return value could not be written as JSON"],
        },
        Case {
            file: "checked_sqrt.jl",
            code: "checked_sqrt(x::Float64) = x < 0 ? throw(DomainError(x, \"no real root\")) : sqrt(x)\n",
            build: &["--arg-type", "Float64"],
            env: &[],
            payload: "-4",
            header: "Function.DomainError",
            body_type: "DomainError",
            message: &["no real root"],
        },
        Case {
            file: "odd_name.jl",
            code: "struct Error2 <: Exception end\nodd_name(x) = throw(Error2())\n",
            build: &[],
            env: &[],
            payload: "{}",
            header: "Function.Unhandled",
            body_type: "Error2",
            message: &["Error2"],
        },
    ];
    assert_cases(&cases).await;
}

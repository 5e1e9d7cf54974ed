//! The local sandbox keeps Lambda's contract, seen from inside by a
//! responder that reports it: an unprivileged uid that no setuid program can
//! raise (no-new-privileges), a read-only root with a
//! writable /tmp, the memory limit in its cgroup, Lambda's environment, and an
//! ARN built from AWS_REGION and JOT_LOCAL_ACCOUNT_ID. Also jot-invoke's
//! `--image`, `--memory`, `--payload-file`, `--local` with a `function`
//! descriptor, and a bad descriptor line after a good one.

use jot_tests::aws::{self, isolate};
use jot_tests::*;
use serde_json::json as j;

const CONTRACT: &str = r#"
function contract(event, ctx)
    root_write = try
        open(io -> write(io, "x"), "/jot-probe", "w")
        "allowed"
    catch e
        sprint(showerror, e)
    end
    tmp = try
        write("/tmp/jot-probe", "ok")
        read("/tmp/jot-probe", String)
    catch e
        sprint(showerror, e)
    end
    limit = nothing
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
        if isfile(f)
            limit = strip(read(f, String))
            break
        end
    end
    status = read("/proc/self/status", String)
    nnp = match(r"NoNewPrivs:\s*(\d)", status)
    names = ["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
             "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
             "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT"]
    return (uid = Int(ccall(:getuid, Cuint, ())), root_write = root_write, tmp = tmp,
            memory_limit = limit, env = Dict(n => get(ENV, n, nothing) for n in names),
            arn = ctx.invoked_function_arn, event = event,
            no_new_privs = nnp === nothing ? nothing : String(nnp.captures[1]))
end
"#;

#[test]
fn the_sandbox_keeps_lambdas_contract() {
    let script = script("contract.jl", CONTRACT);
    let built = json(build(&script.path, &["--name", "sandbox-contract"]).trim());
    let image = built["local_image"]["image"].as_str().unwrap();
    let payload_file = script.dir.path().join("event.json");
    std::fs::write(&payload_file, r#"{"from":"a file"}"#).unwrap();
    let mut command = jot("jot-invoke");
    isolate(&mut command)
        .env("AWS_REGION", "eu-west-3")
        .env("JOT_LOCAL_ACCOUNT_ID", "111122223333")
        .args(["--image", image, "--memory", "512", "--payload-file"])
        .arg(&payload_file);
    let (code, stdout, stderr) = outcome(&run(&mut command));
    assert_eq!(code, 0, "{stderr}");
    let report = json(&stdout);
    assert_eq!(report["event"], j!({"from": "a file"}), "--payload-file");
    let uid = report["uid"].as_i64().unwrap();
    assert!(uid != 0, "the function runs as root");
    assert_eq!(
        report["no_new_privs"], "1",
        "the sandbox can gain privileges through setuid programs: {report}"
    );
    assert!(
        report["root_write"]
            .as_str()
            .unwrap()
            .contains("Read-only file system"),
        "writing to / was not refused: {report}"
    );
    assert_eq!(report["tmp"], "ok", "/tmp is not writable: {report}");
    assert_eq!(
        report["memory_limit"],
        (512u64 << 20).to_string(),
        "the cgroup limit is not --memory 512: {report}"
    );
    let env = &report["env"];
    let name = env["AWS_LAMBDA_FUNCTION_NAME"].as_str().unwrap();
    assert_eq!(name, "sandbox-contract");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "512");
    assert_eq!(
        env["AWS_LAMBDA_LOG_GROUP_NAME"],
        "/aws/lambda/sandbox-contract"
    );
    assert!(
        env["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .unwrap()
            .contains("[$LATEST]"),
        "{env}"
    );
    let api = env["AWS_LAMBDA_RUNTIME_API"].as_str().unwrap();
    assert!(api.starts_with("127.0.0.1:"), "{api}");
    assert_eq!(env["AWS_REGION"], "eu-west-3");
    assert_eq!(env["_HANDLER"], "contract");
    assert_eq!(env["LAMBDA_TASK_ROOT"], "/var/task");
    assert_eq!(
        report["arn"],
        "arn:aws:lambda:eu-west-3:111122223333:function:sandbox-contract"
    );
}

#[test]
fn local_runs_a_function_descriptor_in_docker_and_not_on_lambda() {
    let script = script("add_ten.jl", "add_ten(x::Int) = x + 10\n");
    let mut descriptor = json(build(&script.path, &["--arg-type", "Int"]).trim());
    let name = descriptor["name"].as_str().unwrap().to_string();
    descriptor["kind"] = j!("function");
    descriptor["function"] = j!({
        "name": name,
        "arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        "version": "1",
    });
    let line = descriptor.to_string();
    // Lambda is a dead endpoint: only a local run can answer.
    let invoke = |local: bool| {
        let mut command = jot("jot-invoke");
        isolate(&mut command)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", aws::DEAD_ENDPOINT)
            .args(["--payload", "32"]);
        if local {
            command.arg("--local");
        }
        outcome(&run_with_stdin(&mut command, line.as_bytes()))
    };
    let (code, stdout, stderr) = invoke(true);
    assert_eq!((code, stdout.as_str()), (0, "42"), "{stderr}");
    let (code, stdout, stderr) = invoke(false);
    assert_eq!(
        code, 8,
        "without --local it calls Lambda: {stdout} {stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn a_bad_descriptor_line_after_a_good_one_runs_nothing() {
    let script = script("say_ran.jl", "say_ran(x) = \"ran\"\n");
    let good = build(&script.path, &[]);
    let stdin = format!(
        "{}\n{{\"jot\": 1, \"kind\": \"local_image\"}}\n",
        good.trim()
    );
    let (code, stdout, stderr) = outcome(&run_with_stdin(&mut jot("jot-invoke"), stdin.as_bytes()));
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty(), "the good line ran: {stdout}");
    assert!(stderr.contains("stdin line 2"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

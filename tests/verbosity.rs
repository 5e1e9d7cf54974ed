//! `-q` and `-v` on every tool (README: "the shared flags … `-q/--quiet`,
//! `-v/--verbose`"): with `-q` a tool that succeeds says nothing on stderr
//! (an error is still its one line), its stdout unchanged; without a flag it
//! prints its notes and no detail; `-v` adds detail lines: the image a build
//! made, the sandbox of a local invoke, a listing's span, a checked file,
//! jot-serve's REPORT per invocation, and `aws: SERVICE OPERATION: STATUS`
//! for every AWS call.

use std::process::Stdio;

use jot_tests::aws::{self, aws_env};
use jot_tests::serve::{Client, Serve};
use jot_tests::*;

/// (exit code, stdout, stderr) of `tool args` with `flag` ("" for none).
fn with(tool: &str, flag: &str, args: &[&str], stdin: &str, aws: bool) -> (i32, String, String) {
    let mut command = jot(tool);
    if aws {
        aws_env(&mut command);
    }
    command.args(args);
    if !flag.is_empty() {
        command.arg(flag);
    }
    outcome(&run_with_stdin(&mut command, stdin.as_bytes()))
}

/// The three runs of one command: none, `-q`, `-v`; each must exit `code`
/// with the same stdout (up to `same_stdout`).
fn three(tool: &str, args: &[&str], stdin: &str, aws: bool, code: i32) -> [(String, String); 3] {
    ["", "-q", "-v"].map(|flag| {
        let (got, stdout, stderr) = with(tool, flag, args, stdin, aws);
        assert_eq!(got, code, "{tool} {args:?} {flag}: {stderr}");
        (stdout, stderr)
    })
}

/// A table without its "N s ago" ages.
fn ageless(table: &str) -> String {
    let words: Vec<&str> = table.split(' ').collect();
    (0..words.len())
        .filter(|&i| words.get(i) != Some(&"ago") && words.get(i + 1) != Some(&"ago"))
        .map(|i| words[i])
        .collect::<Vec<_>>()
        .join(" ")
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// Detail lines: what only `-v` prints.
fn is_aws_call(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("aws: ") else {
        return false;
    };
    let (call, status) = rest.rsplit_once(": ").unwrap_or(("", ""));
    call.split(' ').count() == 2 && (status.parse::<u16>().is_ok() || status == "no answer")
}

/// `-v`'s stderr is the plain run's lines with `extra` lines added (in order),
/// each of which `is_detail`; the plain run has none of them.
fn adds_only_detail(plain: &str, verbose: &str, is_detail: impl Fn(&str) -> bool) -> Vec<String> {
    assert!(
        !lines(plain).iter().any(|l| is_detail(l)),
        "detail without -v:\n{plain}"
    );
    let kept: Vec<&str> = lines(verbose)
        .into_iter()
        .filter(|l| !is_detail(l))
        .collect();
    assert_eq!(kept, lines(plain), "-v changed the other lines:\n{verbose}");
    lines(verbose)
        .into_iter()
        .filter(|l| is_detail(l))
        .map(str::to_string)
        .collect()
}

#[test]
fn local_tools_say_nothing_with_q_and_add_detail_with_v() {
    let script = script("verbose_probe.jl", "verbose_probe(x) = x + 1\n");
    let path = script.path.to_str().unwrap();

    // jot-build: "test run passed"; -v the image it made.
    let build_args = [
        path,
        "--arg-type",
        "Int",
        "--test-payload",
        "1",
        "--expect",
        "2",
    ];
    let [plain, quiet, verbose] = three("jot-build", &build_args, "", false, 0);
    let descriptor = json(&plain.0);
    let image = descriptor["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let id = descriptor["local_image"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(quiet, (plain.0.clone(), String::new()));
    assert_eq!(verbose.0, plain.0);
    assert_eq!(plain.1, format!("{image}: test run passed"));
    let detail = adds_only_detail(&plain.1, &verbose.1, |l| {
        l.contains(" ms") && l.contains(&id)
    });
    assert_eq!(detail.len(), 1, "{}", verbose.1);
    assert!(
        detail[0].starts_with(&format!("{image}: image {id} on {} in ", base_image())),
        "{detail:?}"
    );

    // jot-invoke --local: the answer alone; -v the sandbox's span.
    let [plain, quiet, verbose] = three(
        "jot-invoke",
        &["--local", "--payload", "41"],
        &plain.0,
        false,
        0,
    );
    assert_eq!(plain, ("42".to_string(), String::new()));
    assert_eq!(quiet, plain);
    let detail = adds_only_detail(&plain.1, &verbose.1, |l| l.contains("sandbox started"));
    assert_eq!(detail.len(), 1, "{}", verbose.1);
    assert!(
        detail[0].starts_with(&format!("{image}: sandbox started, used and removed in ")),
        "{detail:?}"
    );

    // jot-ls: the table on stdout; a note when nothing matches; -v the listing.
    let name = descriptor["name"].as_str().unwrap();
    let [plain, quiet, verbose] = three("jot-ls", &[name, "--color", "never"], "", false, 0);
    assert!(plain.0.contains(name), "{}", plain.0);
    assert_eq!(
        (ageless(&quiet.0), quiet.1),
        (ageless(&plain.0), String::new())
    );
    let listed = |l: &str| l.starts_with("listed local images in ") && l.ends_with(" ms");
    assert_eq!(adds_only_detail(&plain.1, &verbose.1, listed).len(), 1);
    let [plain, quiet, verbose] = three("jot-ls", &["no-such-jot-anywhere"], "", false, 0);
    assert_eq!(
        plain.1,
        "no local jots found (jot-ls --remote also lists ECR and Lambda)"
    );
    assert_eq!(quiet.1, "");
    assert_eq!(adds_only_detail(&plain.1, &verbose.1, listed).len(), 1);
    // The front command passes them on: `jot ls` is jot-ls.
    let [front, front_quiet, front_verbose] =
        three("jot", &["ls", "no-such-jot-anywhere"], "", false, 0);
    assert_eq!(front.1, plain.1);
    assert_eq!(front_quiet.1, "");
    assert_eq!(
        adds_only_detail(&front.1, &front_verbose.1, listed).len(),
        1
    );
    // …also when they come before the subcommand (`jot -q ls`).
    for (flag, expected) in [("-q", quiet.1.clone()), ("-v", verbose.1.clone())] {
        let (code, _, stderr) =
            outcome(&run(jot("jot").args([flag, "ls", "no-such-jot-anywhere"])));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(
            lines(&stderr).iter().filter(|l| !listed(l)).count(),
            lines(&expected).iter().filter(|l| !listed(l)).count(),
            "jot {flag} ls: {stderr}"
        );
        assert_eq!(
            lines(&stderr).iter().any(|l| listed(l)),
            flag == "-v",
            "jot {flag} ls: {stderr}"
        );
    }

    // jot-config check: "ok"; -v what it checked; an error is one line even with -q.
    let toml = script.dir.path().join("jot.toml");
    std::fs::write(&toml, "memory = 1024\n[env.prod]\nmemory = 2048\n").unwrap();
    let file = toml.to_str().unwrap();
    let [plain, quiet, verbose] = three(
        "jot-config",
        &["check", file, "--env-name", "prod"],
        "",
        false,
        0,
    );
    assert_eq!(plain.1, format!("{file}: ok"));
    assert_eq!(quiet.1, "");
    assert_eq!(
        adds_only_detail(&plain.1, &verbose.1, |l| l.contains("checked")),
        [format!("{file}: checked its top and [env.prod]")]
    );
    std::fs::write(&toml, "memory = \"lots\"\n").unwrap();
    let [plain, quiet, verbose] = three("jot-config", &["check", file], "", false, 5);
    assert_eq!(lines(&plain.1).len(), 1, "{}", plain.1);
    assert!(plain.1.starts_with("jot-config: error: "), "{}", plain.1);
    assert_eq!(quiet.1, plain.1);
    assert_eq!(verbose.1, plain.1);
}

#[test]
fn jot_serve_says_nothing_with_q_and_reports_each_invocation_with_v() {
    let script = script("serve_verbose.jl", "serve_verbose(x) = x * 2\n");
    let descriptor = build(&script.path, &["--arg-type", "Int"]);
    let name = json(descriptor.trim())["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut stderrs = Vec::new();
    for flag in ["", "-q", "-v"] {
        let log = script.dir.path().join(format!("serve{flag}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let args: Vec<&str> = [flag].into_iter().filter(|f| !f.is_empty()).collect();
        let mut serve = Serve::start_with(&descriptor, &args, &[], Stdio::from(file));
        for payload in ["1", "2"] {
            let (status, _, body) = Client::connect(&serve.addr).invoke(&name, payload);
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        }
        assert_eq!(serve.stop("TERM"), 143);
        stderrs.push(std::fs::read_to_string(&log).unwrap());
    }
    let [plain, quiet, verbose] = [&stderrs[0], &stderrs[1], &stderrs[2]];
    assert!(
        plain.contains(&format!("serving {name} at http://")),
        "{plain}"
    );
    // Only the line of exit 143 (stopped by SIGTERM), which -q keeps.
    let stopped = "jot-serve: stopped; every sandbox was removed";
    assert_eq!(quiet.trim_end(), stopped, "-q printed");
    assert!(plain.ends_with(&format!("{stopped}\n")), "{plain}");
    let report = |l: &str| l.starts_with(&format!("{name} [$LATEST] REPORT RequestId: "));
    assert!(!lines(plain).iter().any(|l| report(l)), "{plain}");
    // The other lines name a port and a key of their run: compare their count.
    let reports = lines(verbose).into_iter().filter(|l| report(l)).count();
    assert_eq!(reports, 2, "{verbose}");
    assert_eq!(lines(verbose).len(), lines(plain).len() + 2, "{verbose}");
}

#[test]
fn aws_tools_say_nothing_with_q_and_name_every_aws_call_with_v() {
    aws::require_ministack();
    let name = aws::unique("verbose");
    let _cleanup = aws::Cleanup::named(&name);
    let script = script("verbose_aws.jl", "verbose_aws(x) = x\n");
    let built = build(&script.path, &["--name", &name]);

    // jot-push: the first run pushes (notes), the next two find it in ECR.
    let (code, pushed, plain) = with("jot-push", "", &[], &built, true);
    assert_eq!(code, 0, "{plain}");
    assert!(
        plain.contains(&format!("{name}: created ECR repository")),
        "{plain}"
    );
    assert!(!lines(&plain).iter().any(|l| is_aws_call(l)), "{plain}");
    let (code, quiet_out, quiet) = with("jot-push", "-q", &[], &built, true);
    assert_eq!(
        (code, quiet_out.as_str(), quiet.as_str()),
        (0, pushed.as_str(), "")
    );
    let (code, verbose_out, verbose) = with("jot-push", "-v", &[], &built, true);
    assert_eq!(code, 0, "{verbose}");
    assert_eq!(verbose_out, pushed);
    let calls: Vec<&str> = lines(&verbose)
        .into_iter()
        .filter(|l| is_aws_call(l))
        .collect();
    assert!(calls.contains(&"aws: ECR DescribeImages: 200"), "{verbose}");
    assert_eq!(
        lines(&verbose).len(),
        calls.len() + 1,
        "one note besides: {verbose}"
    );

    // jot-deploy: the first run creates (notes); then unchanged.
    let [plain, quiet, verbose] = three("jot-deploy", &[], &pushed, true, 0);
    assert!(
        plain.1.contains(&format!("{name}: created function")),
        "{}",
        plain.1
    );
    assert_eq!(quiet.1, "");
    assert_eq!(json(&quiet.0)["function"]["version"], "1");
    assert!(
        !lines(&plain.1).iter().any(|l| is_aws_call(l)),
        "{}",
        plain.1
    );
    let (calls, others): (Vec<&str>, Vec<&str>) =
        lines(&verbose.1).into_iter().partition(|l| is_aws_call(l));
    assert!(
        calls.contains(&"aws: Lambda GetFunction: 200"),
        "{}",
        verbose.1
    );
    assert_eq!(others.len(), 1, "{}", verbose.1);
    assert!(
        others[0].starts_with(&format!("{name}: unchanged; version 1 already runs")),
        "{}",
        verbose.1
    );

    // jot-ls --remote: the same table; -v each listing call and the span.
    let [plain, quiet, verbose] = three(
        "jot-ls",
        &[&name, "--remote", "--color", "never"],
        "",
        true,
        0,
    );
    // (Ages move on between the runs.)
    assert_eq!(ageless(&quiet.0), ageless(&plain.0));
    assert_eq!(quiet.1, "");
    let calls = adds_only_detail(&plain.1, &verbose.1, |l| {
        is_aws_call(l) || l.starts_with("listed local images, ECR and Lambda in ")
    });
    for call in [
        "aws: ECR DescribeImages: 200",
        "aws: Lambda ListFunctions: 200",
    ] {
        assert!(calls.iter().any(|c| c == call), "{call} not in {calls:?}");
    }

    // jot-rm --only function: the plan and what it deleted; -v its calls.
    let (code, stdout, stderr) = with(
        "jot-rm",
        "-v",
        &[&name, "--only", "function", "--yes"],
        "",
        true,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("deleted Lambda function {name}")),
        "{stdout}"
    );
    assert!(
        lines(&stderr).contains(&"aws: Lambda DeleteFunction: 204"),
        "{stderr}"
    );
    assert!(lines(&stderr).iter().all(|l| is_aws_call(l)), "{stderr}");
    for flag in ["", "-q"] {
        let (code, _, stderr) = with(
            "jot-rm",
            flag,
            &[&name, "--only", "function", "--yes"],
            "",
            true,
        );
        assert_eq!((code, stderr.as_str()), (0, ""), "jot-rm {flag}");
    }

    // An error is its one line with -q too: a dead endpoint.
    let mut command = jot("jot-ls");
    aws_env(&mut command)
        .env("AWS_ENDPOINT_URL", aws::DEAD_ENDPOINT)
        .args([&name, "--remote", "-q"]);
    let (code, _, stderr) = outcome(&run(&mut command));
    assert_eq!(code, 9, "{stderr}");
    assert!(
        !stderr.is_empty() && lines(&stderr).iter().all(|l| l.starts_with("jot-ls: ")),
        "{stderr}"
    );
}

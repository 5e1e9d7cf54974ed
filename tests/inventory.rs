//! jot-ls and jot-rm against MiniStack and the real Docker engine: every
//! status on the way from a build to a live alias, `--keep 1` with an alias
//! pinning the oldest version, `--dry-run` changing nothing, foreign
//! resources hidden and refused, 120 functions (pagination), and a removal
//! cut short half-way that a second run completes.

use std::io::{BufRead, BufReader, Read};
use std::process::Command;

use jot_tests::aws::{self, aws_env};
use jot_tests::*;
use serde_json::{Value, json as j};

/// Removes every copy of the jots named by `pattern` when dropped, also when
/// the test failed half-way.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        // A removal that could not list everything (exit 9) is run again.
        for _ in 0..3 {
            let output = run(aws_env(&mut jot("jot-rm")).args([&self.0, "--yes", "--force", "-q"]));
            match output.status.code() {
                Some(0) | Some(5) => return, // done, or nothing left of it
                _ => eprintln!(
                    "cleanup of {}: {}",
                    self.0,
                    String::from_utf8_lossy(&output.stderr)
                ),
            }
        }
    }
}

fn tool(name: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    outcome(&run_with_stdin(
        aws_env(&mut jot(name)).args(args),
        stdin.as_bytes(),
    ))
}

fn ok(name: &str, args: &[&str], stdin: &str) -> String {
    let (code, stdout, stderr) = tool(name, args, stdin);
    assert_eq!(code, 0, "{name} {args:?}: {stderr}\n{stdout}");
    stdout
}

/// The status column of `name`'s row in the plain table.
fn status(name: &str, remote: bool) -> String {
    let mut args = vec![name, "--color", "never"];
    if remote {
        args.push("--remote");
    }
    let table = ok("jot-ls", &args, "");
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row for {name}:\n{table}"));
    let columns: Vec<&str> = row.split("  ").filter(|c| !c.trim().is_empty()).collect();
    columns[1].trim().to_string()
}

/// What exists, as jot-ls sees it with every version: the before/after of a dry run.
fn listing(name: &str) -> String {
    ok(
        "jot-ls",
        &[name, "--remote", "--all-versions", "--color", "never"],
        "",
    )
    .lines()
    // Ages move on between two listings; digests, versions and tags do not.
    .map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let ages: Vec<usize> = (1..words.len()).filter(|&i| words[i] == "ago").collect();
        words
            .iter()
            .enumerate()
            .filter(|(i, _)| !ages.contains(i) && !ages.contains(&(i + 1)))
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(" ")
    })
    .collect::<Vec<_>>()
    .join("\n")
}

fn julia_code(n: u32) -> String {
    format!("function inventory_probe(v::Vector{{Int}})\n    v .+ {n}\nend\n")
}

fn deploy_version(script: &Script, name: &str, alias: Option<&str>) -> (String, String) {
    let built = build(&script.path, &["--name", name, "--arg-type", "Vector{Int}"]);
    let pushed = ok("jot-push", &["-q"], &built);
    let mut args = vec!["-q"];
    if let Some(alias) = alias {
        args.extend(["--alias", alias]);
    }
    let deployed = json(&ok("jot-deploy", &args, &pushed));
    version_and_digest(&deployed)
}

/// The version a deploy published and the image digest it runs.
fn version_and_digest(deployed: &serde_json::Value) -> (String, String) {
    let field = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    (
        field(&deployed["function"]["version"]),
        field(&deployed["remote_image"]["digest"]),
    )
}

#[test]
fn every_status_and_keep_one_with_an_alias_on_the_oldest() {
    aws::require_ministack();
    let name = aws::unique("inv-keep");
    let _cleanup = Cleanup(name.clone());
    let script = script("inventory_probe.jl", &julia_code(1));

    let built = build(
        &script.path,
        &["--name", &name, "--arg-type", "Vector{Int}"],
    );
    assert_eq!(status(&name, false), "built");
    assert_eq!(status(&name, true), "built, not pushed");
    let pushed = ok("jot-push", &["-q"], &built);
    assert_eq!(status(&name, true), "pushed, not deployed");
    let deployed = json(&ok("jot-deploy", &["-q", "--alias", "live"], &pushed));
    let d1 = deployed["remote_image"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(status(&name, true), "up to date");

    std::fs::write(&script.path, julia_code(2)).unwrap();
    assert_eq!(status(&name, true), "source changed since the build");
    let built = build(
        &script.path,
        &["--name", &name, "--arg-type", "Vector{Int}"],
    );
    ok("jot-push", &["-q"], &built);
    assert_eq!(
        status(&name, true),
        "$LATEST older than the newest pushed image"
    );
    let (v2, d2) = {
        let deployed = json(&ok("jot-deploy", &["-q"], &ok("jot-push", &["-q"], &built)));
        version_and_digest(&deployed)
    };
    assert_eq!(status(&name, true), "alias live pinned to an older image");
    std::fs::write(&script.path, julia_code(3)).unwrap();
    let (v3, d3) = deploy_version(&script, &name, None);
    assert_eq!(
        aws::published_versions(&name),
        ["1", v2.as_str(), v3.as_str()]
    );

    // jot-ls --json is what the other tools read: jot-invoke runs the newest version.
    let described = json(&ok("jot-ls", &[&name, "--remote", "--json"], ""));
    assert_eq!(described["kind"], "function");
    assert_eq!(described["function"]["version"], v3.as_str());
    assert_eq!(described["remote_image"]["digest"], d3.as_str());
    let line = described.to_string();
    let redeployed = json(&ok("jot-deploy", &["-q"], &line));
    assert_eq!(
        redeployed["function"]["version"],
        v3.as_str(),
        "an unchanged image"
    );

    // Without a terminal and without --yes: refused, nothing changed.
    let before = listing(&name);
    let (code_no_yes, _, stderr) = tool("jot-rm", &[&name, "--keep", "1"], "");
    assert_eq!(code_no_yes, 2, "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    let plan = ok("jot-rm", &[&name, "--keep", "1", "--dry-run"], "");
    assert_eq!(listing(&name), before, "--dry-run changed something");
    let steps: Vec<&str> = plan.lines().filter(|l| l.contains(". delete ")).collect();
    assert_eq!(
        steps.len(),
        4,
        "version 2, its ECR image, its local image's two references:\n{plan}"
    );
    assert!(
        steps[0].ends_with(&format!("function {name} version {v2}")),
        "{plan}"
    );
    assert!(
        steps[1].contains(&format!("ECR image {name}@{d2}")),
        "{plan}"
    );
    let tag2 = steps[1]
        .split("(tags ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')');
    for step in &steps[2..] {
        assert!(
            step.contains("local image") && step.ends_with(&format!("{name}:{tag2}")),
            "{plan}"
        );
    }
    assert!(
        plan.contains(&format!(
            "keep Lambda function {name} version 1: alias live points at it"
        )),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("keep ECR image {name}@{d1}")),
        "{plan}"
    );

    let done = ok("jot-rm", &[&name, "--keep", "1", "--yes"], "");
    assert!(
        done.contains(&format!("deleted Lambda function {name} version {v2}")),
        "{done}"
    );
    assert_eq!(aws::published_versions(&name), ["1", v3.as_str()]);
    let mut kept = vec![d1.clone(), d3.clone()];
    kept.sort();
    assert_eq!(aws::ecr_images(&name), kept);

    // An image gone from ECR that a version still runs: red.
    aws::ecr(
        "BatchDeleteImage",
        j!({"repositoryName": name, "imageIds": [{"imageDigest": d1}]}),
    );
    assert_eq!(
        status(&name, true),
        "image gone from ECR: version 1 will fail to start"
    );
    let coloured = ok("jot-ls", &[&name, "--remote", "--color", "always"], "");
    assert!(coloured.contains("\x1b[1;31m"), "{coloured:?}");

    // The whole jot: function, images, repository, local images.
    let done = ok("jot-rm", &[&name, "--yes"], "");
    assert!(
        done.contains(&format!("deleted Lambda function {name}")),
        "{done}"
    );
    assert!(
        done.contains(&format!("deleted ECR repository {name}")),
        "{done}"
    );
    let (status_code, _) = aws::lambda("GET", &format!("/2015-03-31/functions/{name}"), None);
    assert_eq!(status_code, 404);
    let (code_after, _, stderr) = tool("jot-ls", &[&name, "--remote"], "");
    assert_eq!(code_after, 0, "{stderr}");
    assert!(stderr.contains("no jots found"), "{stderr}");
}

/// A function, repository and local image jot did not make, under one name.
fn make_foreign(name: &str) {
    let (status, created) = aws::lambda(
        "POST",
        "/2015-03-31/functions",
        Some(j!({
            "FunctionName": name,
            "PackageType": "Image",
            "Code": {"ImageUri": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:v1")},
            "Role": "arn:aws:iam::123456789012:role/someone-elses-role",
        })),
    );
    assert!(status == 200 || status == 201, "{created}");
    aws::ecr("CreateRepository", j!({"repositoryName": name}));
    let tagged = Command::new("docker")
        .args(["tag", &base_image(), &format!("{name}:v1")])
        .status()
        .unwrap();
    assert!(tagged.success());
}

#[test]
fn foreign_resources_are_hidden_and_refused_and_a_gone_source_is_orphaned() {
    aws::require_ministack();
    let name = aws::unique("inv-foreign");
    let _cleanup = Cleanup(name.clone());
    make_foreign(&name);

    let hidden = ok("jot-ls", &[&name, "--remote"], "");
    assert!(!hidden.contains(&name), "{hidden}");
    let shown = ok(
        "jot-ls",
        &[&name, "--remote", "--all", "--color", "never"],
        "",
    );
    assert!(shown.contains(&format!("{name} (foreign)")), "{shown}");

    let (code, stdout, stderr) = tool("jot-rm", &[&name, "--yes"], "");
    assert_eq!(code, 5, "{stderr}\n{stdout}");
    for part in ["Lambda function", "ECR repository", "local image"] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    aws::get_function(&name, None);
    aws::ecr("DescribeRepositories", j!({"repositoryNames": [name]}));
    inspect_image(&format!("{name}:v1"));

    let done = ok("jot-rm", &[&name, "--yes", "--force"], "");
    assert!(done.contains("deleted local image"), "{done}");
    let (status, _) = aws::lambda("GET", &format!("/2015-03-31/functions/{name}"), None);
    assert_eq!(status, 404);

    // A jot built from a script that was then deleted.
    let orphan = aws::unique("inv-orphan");
    let _orphan_cleanup = Cleanup(orphan.clone());
    let probe = script("inventory_probe.jl", &julia_code(7));
    build(
        &probe.path,
        &["--name", &orphan, "--arg-type", "Vector{Int}"],
    );
    std::fs::remove_file(&probe.path).unwrap();
    assert_eq!(status_of_local(&orphan), "orphaned: the source is gone");
}

fn status_of_local(name: &str) -> String {
    status(name, false)
}

#[test]
fn one_hundred_and_twenty_functions_are_listed_and_removed() {
    aws::require_ministack();
    let prefix = aws::unique("inv-many");
    let _cleanup = Cleanup(format!("{prefix}-*"));
    let digest = format!("sha256:{}", "c".repeat(64));
    for index in 0..120 {
        let name = format!("{prefix}-{index:03}");
        let (status, created) = aws::lambda(
            "POST",
            "/2015-03-31/functions",
            Some(j!({
                "FunctionName": name,
                "PackageType": "Image",
                "Code": {"ImageUri": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}@{digest}")},
                "Role": "arn:aws:iam::123456789012:role/someone-elses-role",
                "Tags": {"dev.jot.name": name, "dev.jot.function": "f", "dev.jot.tree-hash": "00",
                         "dev.jot.responder-kind": "script"},
            })),
        );
        assert!(status == 200 || status == 201, "{created}");
    }
    let pattern = format!("{prefix}-*");
    let listed = ok("jot-ls", &[&pattern, "--remote", "--json"], "");
    let names: Vec<Value> = listed.lines().map(|l| json(l)["name"].clone()).collect();
    assert_eq!(names.len(), 120, "{listed}");
    let table = ok("jot-ls", &[&pattern, "--remote", "--color", "never"], "");
    assert_eq!(
        table
            .lines()
            .filter(|l| l.contains("image gone from ECR: $LATEST"))
            .count(),
        120
    );
    // Piped descriptors name what to remove; SIGTERM after the first step
    // stops it between steps, listing what remains (exit 143).
    let mut child = spawn_with_stdin(aws_env(&mut jot("jot-rm")).arg("--yes"), listed.as_bytes());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("deleted ") {
            first = line.clone();
            break;
        }
        line.clear();
    }
    assert!(first.starts_with("deleted Lambda function"), "{first}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{rest}");
    let deleted_first = 1 + rest.matches("deleted Lambda function").count();
    assert!(deleted_first < 120, "{rest}");
    assert!(rest.contains("remains: Lambda function"), "{rest}");

    // Running it again finishes the job.
    let done = ok("jot-rm", &["--yes"], &listed);
    assert_eq!(
        done.matches("deleted Lambda function").count() + deleted_first,
        120,
        "{done}"
    );
    let after = ok("jot-ls", &[&pattern, "--remote", "--json"], "");
    assert!(after.is_empty(), "{after}");
}

#[test]
fn a_removal_cut_short_is_finished_by_running_it_again() {
    aws::require_ministack();
    let name = aws::unique("inv-cut");
    let _cleanup = Cleanup(name.clone());
    let script = script("inventory_probe.jl", &julia_code(5));
    deploy_version(&script, &name, Some("live"));

    // ECR stops answering: jot-ls says so on one line and shows the rest.
    let output = run(aws_env(&mut jot("jot-ls"))
        .env("AWS_ENDPOINT_URL_ECR", aws::DEAD_ENDPOINT)
        .args([&name, "--remote", "--color", "never"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 9, "{stderr}");
    let ecr_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("ECR")).collect();
    assert_eq!(ecr_lines.len(), 1, "{stderr}");
    assert!(ecr_lines[0].starts_with("jot-ls: ECR: "), "{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&name) && l.contains("Active")),
        "{stdout}"
    );

    // The function goes, the images are left and listed.
    let output = run(aws_env(&mut jot("jot-rm"))
        .env("AWS_ENDPOINT_URL_ECR", aws::DEAD_ENDPOINT)
        .args([&name, "--yes"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 9, "{stderr}\n{stdout}");
    assert!(
        stdout.contains(&format!("deleted Lambda function {name}")),
        "{stdout}"
    );
    assert!(stdout.contains("left (not listed) ECR"), "{stdout}");
    assert_eq!(
        aws::ecr_images(&name).len(),
        1,
        "the image must still be there"
    );

    let again = ok("jot-rm", &[&name, "--yes"], "");
    assert!(
        again.contains(&format!("deleted ECR repository {name}")),
        "{again}"
    );
    let (code, _, stderr) = tool("jot-rm", &[&name, "--yes"], "");
    assert_eq!(code, 5, "nothing left: {stderr}");
}

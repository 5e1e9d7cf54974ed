//! jot-build's settings for one PATH: its flags (and their `JOT_*`
//! variables, which clap reads), else the `jot.toml` beside it, else the
//! defaults, each checked by the same function whichever level it came from.

use std::path::{Path, PathBuf};

use jot_config::{Config, ConfigArgs, env, pick, pick_list, pick_plain};
use jot_core::limits::Architecture;
use jot_core::{Error, Result, check, names};
use jot_image::deps::{check_registry_url, parse_build_arg};
use jot_image::{
    BuildRequest, CompileOptions, Dependency, InitOptions, Responder, choose_base_image,
};
use serde_json::{Value, json};

/// jot-build's flags that `jot.toml` can also set.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct BuildFlags {
    /// Function to call [default: the script's stem or the package's name]
    #[arg(long, value_name = "NAME", env = env::FUNCTION)]
    pub function: Option<String>,
    /// Julia type the event is converted to, e.g. 'Vector{Int}' [default: Any]
    #[arg(long, value_name = "TYPE", env = env::ARG_TYPE)]
    pub arg_type: Option<String>,
    /// Image repository and Lambda function name [default: from the function]
    #[arg(long, value_name = "NAME", env = env::NAME)]
    pub name: Option<String>,
    /// Image tag [default: a hash of the responder, runtime and base image]
    #[arg(long, value_name = "TAG", env = env::TAG)]
    pub tag: Option<String>,
    /// Base image with Julia [default: julia:<julia-version>]
    #[arg(long, value_name = "IMAGE", env = env::BASE_IMAGE)]
    pub base_image: Option<String>,
    /// Julia release of the official base image [default: 1.12]
    #[arg(long, value_name = "VERSION", env = env::JULIA_VERSION)]
    pub julia_version: Option<String>,
    /// Instruction set; the base image must have it [default: the base image's]
    #[arg(long, value_enum, value_name = "ARCH", env = env::ARCHITECTURE)]
    pub architecture: Option<Architecture>,
    /// Package a script uses, Name or Name@version (repeatable), installed in a cached layer
    #[arg(long = "dep", value_name = "NAME[@VERSION]", env = env::DEPS, value_delimiter = ',')]
    pub deps: Vec<String>,
    /// Julia registry to add before installing dependencies (repeatable), e.g. a private one
    #[arg(long = "registry-url", value_name = "URL", env = env::REGISTRY_URLS, value_delimiter = ',')]
    pub registry_urls: Vec<String>,
    /// Variable for the dependency install steps (NAME=VALUE, repeatable); kept in the image history
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,
    /// Run the built image with this event (JSON) and fail the build on an error; repeat
    /// the flag to send several in turn (with --compile: the exemplar events)
    #[arg(long, value_name = "JSON", allow_hyphen_values = true, env = env::TEST_PAYLOAD)]
    pub test_payload: Vec<String>,
    /// The response the --test-payload in the same position must give (JSON; repeatable)
    #[arg(long, value_name = "JSON", allow_hyphen_values = true, env = env::EXPECT)]
    pub expect: Vec<String>,
    /// Compile the responder ahead: run the --test-payloads through the built image,
    /// trace what they compile and bake it, with the runtime, into a system image
    /// (Julia < 1.9) or a package image (Julia >= 1.9) in the image's last layers, so
    /// the first request compiles none of it. A compiled build takes 1 to 1.5 minutes
    /// on 2 cores (the default build: about 2 s for a script)
    #[arg(long)]
    pub compile: bool,
    /// With --compile (implied), also run a package's test/runtests.jl while compiling
    #[arg(long)]
    pub compile_tests: bool,
    /// Start Julia from its full default system image plus the runtime, as before the
    /// lean one became the default: every stdlib of Julia's image is loaded at each start
    /// (Julia 1.5, measured: jot's layers +209 MB instead of +70 MB, Julia's start about
    /// 220 ms instead of 130 ms), but stdlibs such as LinearAlgebra are native code instead
    /// of caches compiled at the first request (1-2 s): for code that uses them
    #[arg(long, env = "JOT_FULL_SYSIMAGE", value_parser = clap::builder::FalseyValueParser::new())]
    pub full_sysimage: bool,
    /// Without --test-payload, still start the built image once (about 0.5 s) and fail the
    /// build if loading the responder would precompile anything again at every cold start,
    /// or if its init takes longer than Lambda's 10 s init budget (as with --test-payload)
    #[arg(long, env = "JOT_BUILD_SELF_TEST", value_parser = clap::builder::FalseyValueParser::new())]
    pub self_test: bool,
    /// Seconds the test invocation may take, init included [default: 120]
    #[arg(long, value_name = "SECONDS")]
    pub test_timeout: Option<u64>,
    /// Event (JSON) the runtime sends through the function in init, answer discarded, so the
    /// first request finds it compiled; in inits off the request path (provisioned
    /// concurrency, SnapStart) unless --warmup-always. A failing warm-up is an init error
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    pub warmup_payload: Option<String>,
    /// Warm up in every init, on-demand cold starts included
    #[arg(long)]
    pub warmup_always: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Everything one PATH's build needs.
#[derive(Debug)]
pub struct Planned {
    pub request: BuildRequest,
    pub test_payloads: Vec<Value>,
    pub expects: Vec<Value>,
    pub test_timeout: u64,
    /// `--self-test`: the load-only self-test when there is no test event.
    pub self_test: bool,
    pub config: Option<PathBuf>,
}

/// The settings for `path`, checked before anything is built.
pub fn plan(path: &Path, flags: &BuildFlags, pull: bool, force: bool) -> Result<Planned> {
    let dir = jot_config::responder_dir(
        &std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    );
    let config = Config::for_responder(&dir, &flags.config.file)?;
    let cfg = config.as_ref();
    let identifier = |what: &'static str| {
        move |f: &String| names::validate_julia_identifier(what, f).map(|()| f.clone())
    };
    let function = pick(
        flags.function.clone(),
        cfg,
        "function",
        |s| &s.function,
        identifier("--function"),
    )?;
    let arg_type = pick_plain(flags.arg_type.clone(), cfg, "arg_type", |s| &s.arg_type);
    let responder = Responder::load(path, function.as_deref(), arg_type.as_deref())?;
    let name = pick_plain(flags.name.clone(), cfg, "name", |s| &s.name);
    let (name, note) = names::resolve_jot_name(name.as_deref(), &responder.info.function)?;
    note.into_iter().for_each(jot_core::output::note);
    let tag = pick(
        flags.tag.clone(),
        cfg,
        "tag",
        |s| &s.tag,
        |t| names::validate_tag(t).map(|()| t.clone()),
    )?;
    let base_image = pick_plain(flags.base_image.clone(), cfg, "base_image", |s| {
        &s.base_image
    });
    let julia_version = pick_plain(flags.julia_version.clone(), cfg, "julia_version", |s| {
        &s.julia_version
    });
    let base_image = choose_base_image(base_image.as_deref(), julia_version.as_deref());
    let architecture = match flags.architecture {
        Some(a) => Some(a),
        None => cfg
            .and_then(|c| c.get("architecture", |s| &s.architecture))
            .map(|l| l.check(|a| Architecture::parse(a)))
            .transpose()?,
    };
    let deps = checked_list(&flags.deps, cfg, "deps", |s| &s.deps, Dependency::parse)?;
    if !deps.is_empty() && responder.info.kind == jot_core::descriptor::ResponderKind::Package {
        return Err(Error::Usage(
            "--dep is for scripts; a package lists its dependencies in its Project.toml".into(),
        ));
    }
    let registry_urls = checked_list(
        &flags.registry_urls,
        cfg,
        "registry_urls",
        |s| &s.registry_urls,
        check_registry_url,
    )?;
    let build_args = if flags.build_args.is_empty() {
        match cfg.and_then(|c| c.get("build_args", |s| &s.build_args)) {
            Some(l) => l.check(|map| {
                jot_config::pairs(map)
                    .iter()
                    .map(|p| parse_build_arg(p))
                    .collect::<Result<Vec<_>>>()
            })?,
            None => Vec::new(),
        }
    } else {
        flags
            .build_args
            .iter()
            .map(|p| parse_build_arg(p))
            .collect::<Result<Vec<_>>>()?
    };
    let json_flag = |what: &'static str| move |text: &String| check::parse_json_flag(what, text);
    // The flags (each repeatable), else jot.toml's one event and answer.
    let events =
        |given: &[String], from_file: Option<Value>, what: &'static str| -> Result<Vec<Value>> {
            if given.is_empty() {
                return Ok(from_file.into_iter().collect());
            }
            given
                .iter()
                .map(|t| check::parse_json_flag(what, t))
                .collect()
        };
    let file_payload = pick(
        None,
        cfg,
        "test_payload",
        |s| &s.test_payload,
        json_flag("--test-payload"),
    )?;
    let file_expect = pick(None, cfg, "expect", |s| &s.expect, json_flag("--expect"))?;
    let test_payloads = events(&flags.test_payload, file_payload, "--test-payload")?;
    let expects = events(&flags.expect, file_expect, "--expect")?;
    if expects.len() > test_payloads.len() {
        return Err(Error::Usage(
            "--expect needs a --test-payload (one --expect per --test-payload, in order)".into(),
        ));
    }
    // A flag turns compilation on; jot.toml's `compile` / `compile_tests` when no flag does.
    let on = |flag: bool| flag.then_some(true);
    let compile_tests = pick_plain(on(flags.compile_tests), cfg, "compile_tests", |s| {
        &s.compile_tests
    })
    .unwrap_or(false);
    let compile = pick_plain(on(flags.compile), cfg, "compile", |s| &s.compile).unwrap_or(false);
    let compile = (compile || compile_tests).then(|| CompileOptions {
        payloads: test_payloads.iter().map(Value::to_string).collect(),
        tests: compile_tests,
    });
    if let Some(compile) = &compile {
        if compile.payloads.is_empty() && !compile.tests {
            return Err(Error::Usage(
                "--compile needs an exemplar: at least one --test-payload (or --compile-tests for a package)".into(),
            ));
        }
        if compile.tests && responder.info.kind != jot_core::descriptor::ResponderKind::Package {
            return Err(Error::Usage(
                "--compile-tests runs a package's test/runtests.jl; a script has none".into(),
            ));
        }
    }
    let full_sysimage = pick_plain(on(flags.full_sysimage), cfg, "full_sysimage", |s| {
        &s.full_sysimage
    })
    .unwrap_or(false);
    let test_timeout =
        pick_plain(flags.test_timeout, cfg, "test_timeout", |s| &s.test_timeout).unwrap_or(120);
    Ok(Planned {
        request: BuildRequest {
            responder,
            name,
            tag,
            base_image,
            pull,
            force,
            architecture,
            deps,
            registry_urls,
            build_args,
            init: InitOptions {
                warmup_payload: flags
                    .warmup_payload
                    .as_deref()
                    .map(|p| check::parse_json_flag("--warmup-payload", p).map(|v| v.to_string()))
                    .transpose()?,
                warmup_always: flags.warmup_always,
            },
            compile,
            full_sysimage,
        },
        test_payloads,
        expects,
        test_timeout,
        self_test: flags.self_test,
        config: config.map(|c| c.path().to_path_buf()),
    })
}

/// A list flag (or its variable), else the file's list, each item checked.
fn checked_list<T>(
    flags: &[String],
    config: Option<&Config>,
    key: &'static str,
    field: impl Fn(&jot_config::Section) -> &jot_config::Item<Vec<String>>,
    check: impl Fn(&str) -> Result<T>,
) -> Result<Vec<T>> {
    if flags.is_empty()
        && let Some(located) = config.and_then(|c| c.get(key, &field))
    {
        return located.check(|items| items.iter().map(|i| check(i)).collect());
    }
    pick_list(flags, config, key, field)
        .iter()
        .map(|i| check(i))
        .collect()
}

/// The settings in effect, for `--show-config`.
pub fn show(planned: &Planned) -> Value {
    let r = &planned.request;
    json!({
        "path": r.responder.info.source,
        "config": planned.config,
        "function": r.responder.info.function,
        "arg_type": r.responder.info.arg_type,
        "name": r.name,
        "tag": r.tag,
        "base_image": r.base_image,
        "architecture": r.architecture.map(|a| a.lambda_name()),
        "deps": r.deps.iter().map(Dependency::display).collect::<Vec<_>>(),
        "registry_urls": r.registry_urls,
        "build_args": r.build_args.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        "test_payload": planned.test_payloads,
        "expect": planned.expects,
        "compile": r.compile.is_some(),
        "test_timeout": planned.test_timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(toml: &str, flags: &BuildFlags) -> Result<Planned> {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("double.jl");
        std::fs::write(&script, "double(x) = 2x\n").unwrap();
        std::fs::write(dir.path().join("jot.toml"), toml).unwrap();
        plan(&script, flags, false, false)
    }

    #[test]
    fn jot_toml_turns_compilation_on_with_its_test_payload_as_the_exemplar() {
        let flags = BuildFlags::default();
        let p = planned("test_payload = \"[1, 2]\"\ncompile = true\n", &flags).unwrap();
        let compile = p.request.compile.expect("compile = true compiles");
        assert_eq!(
            (compile.payloads, compile.tests),
            (vec!["[1,2]".to_string()], false)
        );
        assert!(
            planned("compile = false\n", &flags)
                .unwrap()
                .request
                .compile
                .is_none()
        );
        // The flag needs no key, and a key without an exemplar is the flag's error.
        let on = BuildFlags {
            compile: true,
            test_payload: vec!["3".into()],
            ..BuildFlags::default()
        };
        assert!(planned("", &on).unwrap().request.compile.is_some());
        let err = planned("compile = true\n", &flags).unwrap_err().to_string();
        assert!(err.contains("needs an exemplar"), "{err}");
        // compile_tests implies compile, and is for packages only.
        let err = planned("compile_tests = true\n", &flags)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a script has none"), "{err}");
        let err = planned("compile = \"yes\"\n", &flags)
            .unwrap_err()
            .to_string();
        assert!(err.contains(":1:"), "{err}");
    }
}

//! The Dockerfile rendered from the template, and the environment that tells
//! the runtime what to load and call.

use std::collections::HashMap;

use jot_core::descriptor::ResponderKind;
use jot_core::limits::Architecture;

use crate::deps::{arg_lines, install_script};
use crate::request::{BuildRequest, InitOptions};
use crate::responder::Responder;
use crate::template;

/// The CPU targets Julia's own release builds compile for, per architecture:
/// caches made with them load on any Lambda host of that architecture (a cache
/// for the build machine's CPU alone is rejected on another one and rebuilt
/// into /tmp at every cold start).
pub fn julia_cpu_target(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => {
            "generic;sandybridge,-xsaveopt,clone_all;haswell,-rdrnd,base(1);x86-64-v4,-rdrnd,base(1)"
        }
        Architecture::Arm64 => {
            "generic;cortex-a57;thunderx2t99;carmel,clone_all;apple-m1,base(3);neoverse-512tvb,base(3)"
        }
    }
}

/// The environment that tells the runtime what to load and call (and what
/// to do in init): set by an `ENV` step for a package, written into the image
/// config for a script.
pub fn responder_env(responder: &Responder, init: &InitOptions) -> Vec<(&'static str, String)> {
    let mut env = load_env(responder);
    if let Some(payload) = &init.warmup_payload {
        env.push(("JOT_WARMUP_PAYLOAD", payload.clone()));
    }
    if init.warmup_always {
        env.push(("JOT_WARM_UP", "1".into()));
    }
    env
}

fn load_env(responder: &Responder) -> Vec<(&'static str, String)> {
    let info = &responder.info;
    match info.kind {
        ResponderKind::Script => vec![
            ("JOT_RESPONDER_KIND", "script".into()),
            (
                "JOT_RESPONDER_PATH",
                format!("/var/task/{}", responder.files[0].relative),
            ),
            ("JOT_FUNCTION", info.function.clone()),
            ("JOT_ARG_TYPE", info.arg_type.clone()),
            ("_HANDLER", info.function.clone()),
        ],
        ResponderKind::Package => {
            let module = info.module.clone().unwrap_or_default();
            vec![
                ("JOT_RESPONDER_KIND", "package".into()),
                ("JOT_RESPONDER_PATH", "/var/task".into()),
                ("JOT_RESPONDER_MODULE", module.clone()),
                ("JOT_FUNCTION", info.function.clone()),
                ("JOT_ARG_TYPE", info.arg_type.clone()),
                ("_HANDLER", format!("{module}.{}", info.function)),
            ]
        }
    }
}

/// The Dockerfile for this responder, rendered from the template. For a
/// script it is the runtime stage alone, the same for every script on the
/// same base image; for a package it goes on to the dependencies, the code,
/// its environment and `labels`.
pub fn render_dockerfile(request: &BuildRequest, labels: &HashMap<String, String>) -> String {
    let responder = &request.responder;
    let (dependencies, responder_env, code) = match responder.info.kind {
        ResponderKind::Script => (String::new(), String::new(), String::new()),
        ResponderKind::Package => {
            let module = responder.info.module.clone().unwrap_or_default();
            let mut deps = String::from("ENV JULIA_PROJECT=/var/task\nCOPY deps/ /var/task/\n");
            deps.push_str(&arg_lines(&request.build_args));
            if !responder.registry_dependencies.is_empty() {
                let registries = install_script(&request.registry_urls, &[], "");
                deps.push_str(&format!(
                    "RUN JULIA_DEPOT_PATH=/opt/jot/depot julia --startup-file=no --history-file=no -e '{registries}Pkg.instantiate()'\n",
                ));
            }
            let env: Vec<String> = responder_env(responder, &request.init)
                .into_iter()
                .map(|(k, v)| format!("{k}={}", quote(&v)))
                .collect();
            let mut sorted: Vec<_> = labels.iter().collect();
            sorted.sort();
            let label_line: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
                .collect();
            (
                deps,
                format!("ENV {}", env.join(" ")),
                // Precompile into the read-only depot so init loads the cache.
                format!(
                    "COPY code/ /var/task/\nRUN JULIA_DEPOT_PATH=/opt/jot/depot /opt/jot/bootstrap --julia -e {}\nLABEL {}\n",
                    quote(&format!("using {module}")),
                    label_line.join(" ")
                ),
            )
        }
    };
    template::DOCKERFILE
        .replace("{{BASE_IMAGE}}", &request.base_image)
        .replace(
            "{{CPU_TARGET}}",
            julia_cpu_target(request.target_architecture()),
        )
        .replace(
            "{{ARCHITECTURE}}",
            request.target_architecture().lambda_name(),
        )
        .replace(
            "{{FULL_SYSIMAGE}}",
            if request.full_sysimage {
                "JOT_FULL_SYSIMAGE=1 "
            } else {
                ""
            },
        )
        .replace("{{DEPENDENCIES}}", &dependencies)
        .replace("{{RESPONDER_ENV}}", &responder_env)
        .replace("{{CODE}}", &code)
}

/// A Dockerfile string literal.
fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

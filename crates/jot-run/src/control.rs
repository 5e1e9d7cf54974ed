//! Lambda's control-plane answers (ListFunctions, GetFunction,
//! ListVersionsByFunction, PublishVersion, ListAliases, Get/Create/UpdateAlias)
//! in the JSON shapes AWS SDKs parse, and jot's own status endpoint.

use jot_core::names::LATEST;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::registry::{Alias, Function, Version};
use crate::reply::{Reply, json_reply};
use crate::service::Service;

/// A FunctionConfiguration for `version` (`None`: `$LATEST`).
fn configuration(service: &Service, function: &Function, version: Option<&Version>) -> Value {
    let latest = function.latest();
    let shown = version.unwrap_or(&latest);
    let arn = service.function_arn(&function.name);
    let (version_name, arn) = match version {
        Some(v) => (v.number.to_string(), format!("{arn}:{}", v.number)),
        None => (LATEST.to_string(), arn),
    };
    let settings = &function.settings;
    let variables: BTreeMap<&str, &str> = settings
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    json!({
        "FunctionName": function.name,
        "FunctionArn": arn,
        "Version": version_name,
        "PackageType": "Image",
        "MemorySize": settings.memory_mb,
        "Timeout": settings.timeout.as_secs(),
        "EphemeralStorage": { "Size": 512 },
        "Environment": { "Variables": variables },
        "Architectures": [std::env::consts::ARCH.replace("aarch64", "arm64")],
        "CodeSha256": shown.image_id.trim_start_matches("sha256:"),
        "CodeSize": 0,
        "Description": shown.description,
        "LastModified": jot_core::labels::rfc3339(shown.created),
        "Role": format!("arn:aws:iam::{}:role/jot-serve-local", service.options.account_id),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "RevisionId": format!("{}-{}", function.name, shown.number),
        "ImageConfigResponse": {},
    })
}

fn version_of(
    function: &Function,
    qualifier: Option<&str>,
) -> Result<Option<Arc<Version>>, ApiError> {
    match qualifier {
        None | Some(LATEST) => Ok(None),
        Some(q) => {
            let number = if q.bytes().all(|b| b.is_ascii_digit()) {
                q.to_string()
            } else {
                function
                    .alias(q)
                    .ok_or_else(|| {
                        ApiError::not_found(format!("Function not found: {}:{q}", function.name))
                    })?
                    .function_version
            };
            function.version(&number).map(Some).ok_or_else(|| {
                ApiError::not_found(format!("Function not found: {}:{q}", function.name))
            })
        }
    }
}

pub fn list_functions(service: &Service) -> Reply {
    let functions: Vec<Value> = service
        .functions()
        .map(|f| configuration(service, f, None))
        .collect();
    json_reply(StatusCode::OK, json!({ "Functions": functions }))
}

pub fn get_configuration(
    service: &Service,
    function: &Function,
    qualifier: Option<&str>,
) -> Result<Reply, ApiError> {
    let version = version_of(function, qualifier)?;
    Ok(json_reply(
        StatusCode::OK,
        configuration(service, function, version.as_deref()),
    ))
}

pub fn get_function(
    service: &Service,
    function: &Function,
    qualifier: Option<&str>,
) -> Result<Reply, ApiError> {
    let version = version_of(function, qualifier)?;
    let shown = version.clone().unwrap_or_else(|| function.latest());
    Ok(json_reply(
        StatusCode::OK,
        json!({
            "Configuration": configuration(service, function, version.as_deref()),
            "Code": { "RepositoryType": "ECR", "ImageUri": shown.image, "ResolvedImageUri": shown.image },
            "Tags": { "dev.jot.served-by": "jot-serve" },
        }),
    ))
}

pub fn list_versions(service: &Service, function: &Function) -> Reply {
    let mut versions = vec![configuration(service, function, None)];
    versions.extend(
        function
            .versions()
            .iter()
            .map(|v| configuration(service, function, Some(v))),
    );
    json_reply(StatusCode::OK, json!({ "Versions": versions }))
}

/// Lambda publishes a version only for changed code; here every image is
/// already a version, so this returns the newest (with a new description if given).
pub fn publish_version(service: &Service, function: &Function, _body: &Value) -> Reply {
    let latest = function.latest();
    json_reply(
        StatusCode::CREATED,
        configuration(service, function, Some(&latest)),
    )
}

fn alias_json(service: &Service, function: &Function, alias: &Alias) -> Value {
    let mut value = json!({
        "AliasArn": format!("{}:{}", service.function_arn(&function.name), alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    });
    if !alias.weights.is_empty() {
        value["RoutingConfig"] = json!({ "AdditionalVersionWeights": alias.weights });
    }
    value
}

pub fn list_aliases(service: &Service, function: &Function) -> Reply {
    let aliases: Vec<Value> = function
        .aliases()
        .iter()
        .map(|a| alias_json(service, function, a))
        .collect();
    json_reply(StatusCode::OK, json!({ "Aliases": aliases }))
}

pub fn get_alias(service: &Service, function: &Function, name: &str) -> Result<Reply, ApiError> {
    let alias = function
        .alias(name)
        .ok_or_else(|| ApiError::not_found(format!("Alias not found: {}:{name}", function.name)))?;
    Ok(json_reply(
        StatusCode::OK,
        alias_json(service, function, &alias),
    ))
}

/// CreateAlias (`name` None: from the body) or UpdateAlias.
pub fn put_alias(
    service: &Service,
    function: &Function,
    name: Option<&str>,
    body: &Value,
) -> Result<Reply, ApiError> {
    let create = name.is_none();
    let name = match name {
        Some(name) => name.to_string(),
        None => body["Name"]
            .as_str()
            .ok_or_else(|| ApiError::invalid_parameter("Name is required"))?
            .to_string(),
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let weights = match body.get("RoutingConfig") {
        None | Some(Value::Null) => None,
        Some(routing) => {
            let mut weights = BTreeMap::new();
            if let Some(map) = routing
                .get("AdditionalVersionWeights")
                .and_then(Value::as_object)
            {
                for (version, weight) in map {
                    let weight = weight.as_f64().ok_or_else(|| {
                        ApiError::invalid_parameter(format!(
                            "the weight of version {version} is not a number"
                        ))
                    })?;
                    weights.insert(version.clone(), weight);
                }
            }
            Some(weights)
        }
    };
    let alias = function.put_alias(
        &name,
        create,
        text("FunctionVersion"),
        weights,
        text("Description"),
    )?;
    let status = if create {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_reply(status, alias_json(service, function, &alias)))
}

/// Functions, versions, aliases, sandboxes (idle/busy/starting), queues, counts, p50/p99.
pub fn status(service: &Service) -> Value {
    let functions: Vec<Value> = service
        .entries
        .values()
        .map(|entry| {
            let function = &entry.function;
            let (running, waiting) = function.admission.counts();
            let versions: Vec<Value> = function
                .versions()
                .iter()
                .map(|v| {
                    let (idle, busy, starting) = v.pool.counts();
                    json!({ "version": v.number, "image": v.image,
                            "instances": { "idle": idle, "busy": busy, "starting": starting } })
                })
                .collect();
            let (p50, p99) = function.stats.percentiles().unwrap_or((0.0, 0.0));
            let (depth, capacity) = entry.queue();
            json!({
                "name": function.name,
                "latest": function.latest().number,
                "versions": versions,
                "aliases": function.aliases().iter().map(|a| alias_json(service, function, a)).collect::<Vec<_>>(),
                "concurrency": { "limit": function.admission.limit(), "running": running, "waiting": waiting },
                "event_queue": { "depth": depth, "capacity": capacity },
                "invocations": function.stats.invocations.load(Ordering::Relaxed),
                "errors": function.stats.errors.load(Ordering::Relaxed),
                "throttled": function.admission.throttled.load(Ordering::Relaxed),
                "duration_ms": { "p50": p50, "p99": p99 },
            })
        })
        .collect();
    json!({
        "jot": 1,
        "stopping": service.is_stopping(),
        "in_flight": service.in_flight.count(),
        "started": jot_core::labels::rfc3339(service.started),
        "functions": functions,
    })
}

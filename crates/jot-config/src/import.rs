//! The bash predecessor's `config.json` (julia-aws-lambda-image) as a
//! `jot.toml`: its keys mapped to jot's, what jot does differently said in
//! comments, and an unknown key refused rather than dropped.

use jot_core::{Error, Result};
use serde_json::Value;

/// The `jot.toml` text for a `config.json`; `source` names it in errors.
pub fn from_config_json(source: &str, text: &str) -> Result<String> {
    let bad = |message: String| Error::InvalidInput(format!("{source}: {message}"));
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(bad("expected a JSON object".into()));
    };
    let mut out = vec![format!(
        "# jot.toml imported from {source} (the bash predecessor's config.json).\n# Every key is in jot's docs/configuration.md."
    )];
    let string = |key: &str, v: &Value| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(format!("{key} must be a string")))
    };
    let number = |key: &str, v: &Value| {
        v.as_u64()
            .filter(|n| *n <= u32::MAX as u64)
            .ok_or_else(|| bad(format!("{key} must be a whole number")))
    };
    for (key, v) in &fields {
        match key.as_str() {
            "FunctionName" => out.push(format!(
                "# jot uses one name for the image repository and the function.\nname = {}",
                quote(&string(key, v)?)
            )),
            "ImageName" => out.push(format!(
                "# ImageName {} dropped: the image repository is `name`.",
                string(key, v)?
            )),
            "ImageTag" => {
                let tag = string(key, v)?;
                if tag == "latest" {
                    out.push(
                        "# ImageTag \"latest\" dropped: jot tags each version by its content."
                            .into(),
                    );
                } else {
                    out.push(format!("tag = {}", quote(&tag)));
                }
            }
            "Role" => out.push(format!("role = {}", quote(&string(key, v)?))),
            "Timeout" => out.push(format!("timeout = {}", number(key, v)?)),
            "MemorySize" => out.push(format!("memory = {}", number(key, v)?)),
            "Dependencies" => {
                let deps = v
                    .as_array()
                    .and_then(|a| {
                        a.iter()
                            .map(|d| d.as_str().map(quote))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| bad("Dependencies must be a list of package names".into()))?;
                out.push(format!("deps = [{}]", deps.join(", ")));
            }
            "AWSRegion" => out.push(format!(
                "# AWSRegion {} dropped: jot takes the region from AWS_REGION or the profile.",
                string(key, v)?
            )),
            "AWSAccountId" => {
                out.push("# AWSAccountId dropped: jot never needs an account id.".into())
            }
            other => {
                return Err(bad(format!(
                    "unknown key {other:?} (known: FunctionName, ImageName, ImageTag, Role, Timeout, MemorySize, Dependencies, AWSRegion, AWSAccountId)"
                )));
            }
        }
    }
    Ok(out.join("\n") + "\n")
}

/// A TOML basic string (JSON's escapes are TOML's).
fn quote(s: &str) -> String {
    Value::from(s).to_string()
}

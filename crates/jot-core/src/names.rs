//! Names that must satisfy Docker, ECR and Lambda at once. Checked before any
//! engine or AWS call, so the user sees why and how to fix it, not a raw
//! Docker or AWS error.

use crate::error::{Error, Result};

/// Names jot uses for its own images.
/// Lambda's qualifier of a function's newest code (and its sandboxes' version).
pub const LATEST: &str = "$LATEST";

/// A function's ARN (unqualified): `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

pub const RESERVED_NAMES: &[&str] = &["jot-runtime"];

/// The longest name valid both as a Lambda function name (64) and an ECR repository.
pub const MAX_NAME_LEN: usize = 64;

/// A jot name is the image repository and the Lambda function name, so it must be
/// a valid ECR repository name (lower case, `[a-z0-9]` separated by `.`, `_`,
/// `-`) and a valid Lambda function name (`[a-zA-Z0-9_-]{1,64}`).
pub fn validate_jot_name(name: &str) -> std::result::Result<(), String> {
    let hint = "use 2 to 64 lower-case letters, digits, '-' or '_', starting and ending with a letter or digit";
    if name.len() < 2 || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "name {name:?} must be 2 to {MAX_NAME_LEN} characters long; {hint}"
        ));
    }
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let edges = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !valid_chars || !edges(name.chars().next()) || !edges(name.chars().last()) {
        return Err(format!(
            "name {name:?} is not valid for ECR and Lambda; {hint}"
        ));
    }
    if RESERVED_NAMES.contains(&name) {
        return Err(format!(
            "name {name:?} is used by jot itself (its shared runtime stage); choose another"
        ));
    }
    // ECR: a run of '_' may be one or two long ("_" or "__"), never three.
    if name.contains("___") || name.contains("_-") || name.contains("-_") {
        return Err(format!(
            "name {name:?} mixes separators ECR refuses; {hint}"
        ));
    }
    Ok(())
}

/// The jot name derived from a Julia function name: lower case, '_' → '-'.
/// Returns the name and whether upper case letters were lowered (worth a note).
pub fn jot_name_from_function(function: &str) -> (String, bool) {
    let lowered = function.to_lowercase();
    let changed_case = lowered != function;
    let name = lowered
        .chars()
        .map(|c| if c == '_' || c == '!' { '-' } else { c })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    (name, changed_case)
}

/// Checks a name given by `--name`, lower-casing it with a note rather than
/// letting Docker refuse it.
pub fn normalise_jot_name(given: &str) -> Result<(String, Option<String>)> {
    let lowered = given.to_lowercase();
    let note = (lowered != given).then(|| {
        format!("note: name {given:?} lower-cased to {lowered:?} (Docker and ECR accept only lower case)")
    });
    validate_jot_name(&lowered).map_err(Error::InvalidInput)?;
    Ok((lowered, note))
}

/// The jot name of a responder: `--name` when given, else derived from the
/// function. Returns the name and a note for the user when case was lowered.
pub fn resolve_jot_name(given: Option<&str>, function: &str) -> Result<(String, Option<String>)> {
    if let Some(given) = given {
        return normalise_jot_name(given);
    }
    let (name, lowered) = jot_name_from_function(function);
    validate_jot_name(&name).map_err(|e| Error::InvalidInput(format!("{e}; pass --name NAME")))?;
    let note = lowered.then(|| {
        format!("note: function {function} gives the name {name:?} (Docker and ECR accept only lower case)")
    });
    Ok((name, note))
}

/// Image tags: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` (Docker and ECR).
pub fn validate_tag(tag: &str) -> Result<()> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && tag.len() <= 128 {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "tag {tag:?} is not a valid image tag; use up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        )))
    }
}

/// An AWS region name as AWS spells them (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`): lower-case words joined by `-`, ending in a number.
pub fn validate_region(region: &str) -> std::result::Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let words = &parts[..parts.len().saturating_sub(1)];
    let ok = parts.len() >= 3
        && region.len() <= 32
        && words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not an AWS region name (for example us-east-1, eu-west-2)"
        ))
    }
}

/// A 12-digit AWS account id.
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

/// A profile name as it can stand in `[profile NAME]` of `~/.aws/config`.
pub fn validate_profile(profile: &str) -> std::result::Result<(), String> {
    let ok = !profile.is_empty()
        && profile.len() <= 128
        && !profile
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '[' | ']'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{profile:?} is not an AWS profile name (no spaces or brackets, up to 128 characters)"
        ))
    }
}

/// A Julia identifier as jot accepts it for `--function` and module names.
pub fn validate_julia_identifier(what: &str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_alphanumeric() || c == '_' || c == '!');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{what} {name:?} is not a Julia identifier; use letters, digits and '_', starting with a letter"
        )))
    }
}

/// Checks that `--arg-type` is a plausible Julia type expression (identifiers,
/// dots, commas, symbols, balanced `{}` and `()`), so a typo fails at build time
/// with a clear message. Whether the type exists is checked by Julia at init.
pub fn validate_arg_type(arg_type: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::InvalidInput(format!(
            "--arg-type {arg_type:?} does not parse as a Julia type: {why}; examples: Int, Vector{{Float64}}, Dict{{String,Any}}, NamedTuple{{(:a, :b), Tuple{{Int, String}}}}"
        )))
    };
    let trimmed = arg_type.trim();
    if trimmed.is_empty() {
        return fail("it is empty");
    }
    if !trimmed.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        return fail("it must start with a type name");
    }
    let mut stack = Vec::new();
    let mut previous = ' ';
    for c in trimmed.chars() {
        match c {
            '{' | '(' => stack.push(c),
            '}' | ')' => {
                let open = if c == '}' { '{' } else { '(' };
                if stack.pop() != Some(open) {
                    return fail(&format!("unbalanced '{c}'"));
                }
                if previous == ',' {
                    return fail("a ',' is followed by nothing");
                }
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | ':' | ' ' | '!') => {}
            other => return fail(&format!("unexpected character '{other}'")),
        }
        if !c.is_whitespace() {
            previous = c;
        }
    }
    if let Some(open) = stack.pop() {
        return fail(&format!("'{open}' is never closed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn regions_accounts_and_profiles() {
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "il-central-1"] {
            assert!(super::validate_region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us east 1",
            "us--1",
            "useast1",
            "eu-west-1a",
        ] {
            assert!(super::validate_region(bad).is_err(), "{bad}");
        }
        assert!(super::is_account_id("123456789012"));
        assert!(!super::is_account_id("12345678901a"));
        assert!(super::validate_profile("prod-admin@acme").is_ok());
        assert!(super::validate_profile("a b").is_err());
        assert!(super::validate_profile("").is_err());
    }

    use super::*;

    #[test]
    fn names_jot_uses_itself_are_refused() {
        let err = validate_jot_name("jot-runtime").unwrap_err();
        assert!(err.contains("used by jot itself"), "{err}");
        assert!(resolve_jot_name(Some("jot-runtime"), "f").is_err());
    }

    #[test]
    fn derives_names_from_functions() {
        assert_eq!(
            jot_name_from_function("increment_vector"),
            ("increment-vector".into(), false)
        );
        assert_eq!(jot_name_from_function("AddOne"), ("addone".into(), true));
        assert_eq!(jot_name_from_function("mutate!"), ("mutate".into(), false));
    }

    #[test]
    fn validates_jot_names() {
        assert!(validate_jot_name("increment-vector").is_ok());
        assert!(validate_jot_name("a_b__c").is_ok());
        for bad in [
            "a",
            "Upper",
            "-lead",
            "trail-",
            "sp ace",
            "a___b",
            "x".repeat(65).as_str(),
        ] {
            assert!(validate_jot_name(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn lower_cases_given_names_with_a_note() {
        let (name, note) = normalise_jot_name("MyFunc").unwrap();
        assert_eq!(name, "myfunc");
        assert!(note.unwrap().contains("lower-cased"));
        assert!(normalise_jot_name("bad name").is_err());
    }

    #[test]
    fn resolves_names_from_flags_or_functions() {
        assert_eq!(
            resolve_jot_name(None, "increment_vector").unwrap(),
            ("increment-vector".into(), None)
        );
        let (name, note) = resolve_jot_name(None, "AddOne").unwrap();
        assert_eq!(name, "addone");
        assert!(note.unwrap().contains("lower case"));
        assert_eq!(resolve_jot_name(Some("given"), "f").unwrap().0, "given");
        assert!(
            resolve_jot_name(None, "f")
                .unwrap_err()
                .to_string()
                .contains("--name")
        );
    }

    #[test]
    fn validates_tags() {
        assert!(validate_tag("0123abc_.-x").is_ok());
        assert!(validate_tag(".hidden").is_err());
        assert!(validate_tag("").is_err());
        assert!(validate_tag(&"a".repeat(129)).is_err());
    }

    #[test]
    fn validates_arg_types() {
        for good in [
            "Any",
            "Vector{Int}",
            "Dict{String, Vector{Float64}}",
            "NamedTuple{(:a, :b), Tuple{Int, String}}",
            "Main.Point",
            "Union{Int,Nothing}",
        ] {
            assert!(validate_arg_type(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Vector{Int",
            "Vector{Int}}",
            "Int; rm(\"/\")",
            "{Int}",
            "Dict{String,}",
            "Vector(Int}",
        ] {
            assert!(validate_arg_type(bad).is_err(), "{bad:?} should be refused");
        }
    }
}

//! Turning invocations into what the command line reports: the response on
//! stdout, function errors and `--expect` mismatches as their exit codes.
//! Shared by `jot-build --test-payload` and `jot-invoke`.

use std::io::Write;

use bytes::Bytes;
use serde_json::Value;

use crate::invocation::{Invocation, Outcome};

/// Parses a JSON command-line value, naming the flag when it is not JSON.
pub fn parse_json_flag(flag: &str, text: &str) -> crate::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        crate::Error::InvalidInput(format!(
            "{flag} is not valid JSON ({e}); quote strings as JSON, e.g. {flag} '\"text\"' or {flag} '[1,2,3]'"
        ))
    })
}

/// JSON equality where numbers compare by value (`2` equals `2.0`), since
/// Julia may print an integral Float64 either way.
pub fn json_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => expected == actual,
    }
}

/// The verdict on one invocation: the response, or the error to exit with.
pub fn verdict(invocation: &Invocation, expect: Option<&Value>) -> crate::Result<()> {
    match &invocation.outcome {
        Outcome::FunctionError { error_type, body } => Err(crate::Error::FunctionError(format!(
            "{error_type}: {}",
            error_message(body)
        ))),
        Outcome::Response(body) => match expect {
            Some(expected) => {
                let matches = serde_json::from_slice::<Value>(body)
                    .map(|actual| json_equal(expected, &actual))
                    .unwrap_or(false);
                if matches {
                    Ok(())
                } else {
                    Err(crate::Error::ExpectMismatch {
                        expected: expected.to_string(),
                        actual: String::from_utf8_lossy(body).into_owned(),
                    })
                }
            }
            None => Ok(()),
        },
    }
}

/// Folds one invocation's failed verdict into a session's: a function error
/// outranks an `--expect` mismatch, and of equals the first stays.
pub fn fold_verdict(verdict: &mut crate::Result<()>, error: crate::Error) {
    let outranks = matches!(
        (&error, &*verdict),
        (_, Ok(()))
            | (
                crate::Error::FunctionError(_),
                Err(crate::Error::ExpectMismatch { .. })
            )
    );
    if outranks {
        *verdict = Err(error);
    }
}

/// A string field of an error JSON (`errorMessage`, `errorType`), if the body
/// is a JSON object that has it.
pub fn error_field(body: &[u8], field: &str) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get(field)?
        .as_str()
        .map(str::to_string)
}

/// The `errorMessage` of an error JSON, or the body itself.
pub fn error_message(body: &Bytes) -> String {
    error_field(body, "errorMessage")
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Writes the response or the error JSON as one line on `out`.
pub fn print_outcome(out: &mut impl Write, outcome: &Outcome) -> crate::Result<()> {
    let body = match outcome {
        Outcome::Response(body) | Outcome::FunctionError { body, .. } => body,
    };
    out.write_all(body)
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush())
        .map_err(|e| crate::Error::io("writing the response to stdout", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn invocation(outcome: Outcome) -> Invocation {
        Invocation {
            request_id: "r".into(),
            outcome,
            duration: Duration::ZERO,
            cold: false,
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_equal(&json!([2, 3.5]), &json!([2.0, 3.5])));
        assert!(!json_equal(&json!([2, 3]), &json!([2, 4])));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn verdicts_map_to_exit_codes() {
        let ok = invocation(Outcome::Response(Bytes::from("[2,3,4]")));
        assert!(verdict(&ok, Some(&json!([2, 3, 4]))).is_ok());
        let mismatch = verdict(&ok, Some(&json!([1]))).unwrap_err();
        assert_eq!(mismatch.exit_code(), crate::error::exit::EXPECT_MISMATCH);
        let failed = invocation(Outcome::error("Function.DomainError", "bad\nsecond line"));
        let error = verdict(&failed, None).unwrap_err();
        assert_eq!(error.exit_code(), crate::error::exit::FUNCTION_ERROR);
        assert_eq!(
            error.to_string(),
            "the function returned an error: Function.DomainError: bad"
        );
    }

    #[test]
    fn function_errors_outrank_mismatches() {
        let mismatch = || crate::Error::ExpectMismatch {
            expected: "1".into(),
            actual: "2".into(),
        };
        let mut verdict = Ok(());
        fold_verdict(&mut verdict, mismatch());
        fold_verdict(&mut verdict, crate::Error::FunctionError("first".into()));
        fold_verdict(&mut verdict, crate::Error::FunctionError("second".into()));
        fold_verdict(&mut verdict, mismatch());
        assert_eq!(
            verdict.unwrap_err().to_string(),
            "the function returned an error: first"
        );
    }

    #[test]
    fn flags_must_be_json() {
        assert!(parse_json_flag("--payload", "[1,2]").is_ok());
        let err = parse_json_flag("--payload", "hello")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--payload is not valid JSON"), "{err}");
    }
}

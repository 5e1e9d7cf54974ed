//! The function a request names: a name, a `name:qualifier`, a partial ARN
//! or a full ARN (of this account and region).

use std::sync::Arc;

use crate::error::ApiError;
use crate::registry::Function;
use crate::service::Service;

/// The function a path segment names, and the qualifier it carries (if any).
pub(crate) fn find<'s>(
    service: &'s Service,
    segment: &str,
    qualifier: Option<&str>,
) -> Result<(&'s Arc<Function>, Option<String>), ApiError> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned();
    let (name, in_name) = split_identifier(
        &decoded,
        &service.options.account_id,
        &service.options.region,
    )
    .ok_or_else(|| ApiError::not_found(format!("Function not found: {decoded}")))?;
    let qualifier = match (in_name, qualifier) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (a, b) => a.or(b.map(str::to_string)),
    };
    let function = service.function(&name).ok_or_else(|| {
        ApiError::not_found(format!(
            "Function not found: {}",
            service.function_arn(&name)
        ))
    })?;
    Ok((function, qualifier))
}

/// (name, qualifier) of `name`, `name:q`, `account:function:name[:q]` or
/// `arn:aws:lambda:region:account:function:name[:q]`; None when an ARN names
/// another account or region.
fn split_identifier(id: &str, account: &str, region: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (name_and_qualifier, arn_account, arn_region) = match parts.as_slice() {
        [
            "arn",
            _partition,
            "lambda",
            region,
            account,
            "function",
            rest @ ..,
        ] => (rest, Some(*account), Some(*region)),
        [account, "function", rest @ ..] => (rest, Some(*account), None),
        rest => (rest, None, None),
    };
    if arn_account.is_some_and(|a| a != account) || arn_region.is_some_and(|r| r != region) {
        return None;
    }
    match name_and_qualifier {
        [name] => Some((name.to_string(), None)),
        [name, qualifier] => Some((name.to_string(), Some(qualifier.to_string()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_carry_names_qualifiers_and_only_our_account() {
        let split = |id| split_identifier(id, "000000000000", "us-east-1");
        assert_eq!(split("f"), Some(("f".into(), None)));
        assert_eq!(split("f:live"), Some(("f".into(), Some("live".into()))));
        assert_eq!(
            split("arn:aws:lambda:us-east-1:000000000000:function:f:3"),
            Some(("f".into(), Some("3".into())))
        );
        assert_eq!(split("000000000000:function:f"), Some(("f".into(), None)));
        assert_eq!(
            split("arn:aws:lambda:us-east-1:123456789012:function:f"),
            None
        );
        assert_eq!(
            split("arn:aws:lambda:eu-west-1:000000000000:function:f"),
            None
        );
        assert_eq!(split("f:1:2"), None);
    }
}

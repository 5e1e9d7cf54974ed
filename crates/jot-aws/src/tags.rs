//! jot's labels as AWS resource tags (ECR repositories, Lambda functions, the
//! IAM role), so `jot-ls` can link an image, its repository and its function.
//!
//! AWS tag values allow only letters, digits, spaces and `_ . : / = + - @`
//! (up to 256 characters), but labels such as `dev.jot.arg-type` hold values
//! like `Vector{Int}`. A value that is already valid is stored as it is; any
//! other value (or one that itself starts with the prefix) is stored as
//! `b64:` followed by its standard base64 (whose alphabet `A-Z a-z 0-9 + / =`
//! is valid in tags). The encoding is lossless: [`decode_value`] gives back the
//! label. Documented in docs/aws.md.

use std::collections::BTreeMap;

use aws_smithy_types::base64;
use jot_core::descriptor::Descriptor;
use jot_core::labels;

/// Marks an encoded tag value.
pub const ENCODED_PREFIX: &str = "b64:";
/// AWS's limit on a tag value.
pub const MAX_VALUE_LEN: usize = 256;
/// The image digest a function runs, on Lambda functions.
pub const JOT_IMAGE_DIGEST: &str = "dev.jot.image-digest";
/// Marks IAM roles created by jot.
pub const JOT_ROLE: &str = "dev.jot.role";

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

/// The tag value for a label value, or `None` when even encoded it is too long.
pub fn encode_value(value: &str) -> Option<String> {
    let plain = value.chars().all(allowed) && !value.starts_with(ENCODED_PREFIX);
    let encoded = if plain {
        value.to_string()
    } else {
        format!("{ENCODED_PREFIX}{}", base64::encode(value))
    };
    (encoded.len() <= MAX_VALUE_LEN).then_some(encoded)
}

/// The label value stored in a tag value (inverse of [`encode_value`]).
pub fn decode_value(value: &str) -> Option<String> {
    match value.strip_prefix(ENCODED_PREFIX) {
        Some(encoded) => String::from_utf8(base64::decode(encoded).ok()?).ok(),
        None => Some(value.to_string()),
    }
}

/// The tags of a jot resource made from `descriptor` (the image labels less
/// the build time, which differs between identical images), encoded for AWS.
/// Labels too long for a tag are left out with a note.
pub fn jot_tags(descriptor: &Descriptor, tag: &str) -> BTreeMap<String, String> {
    let mut labels = labels::image_labels(
        &descriptor.name,
        tag,
        &descriptor.responder,
        std::time::SystemTime::UNIX_EPOCH,
    );
    labels.remove(labels::OCI_CREATED);
    encode_all(labels)
}

/// Encodes label values as tag values, leaving out (with a note) those too long.
pub fn encode_all(labels: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for (key, value) in labels {
        match encode_value(&value) {
            Some(encoded) => {
                tags.insert(key, encoded);
            }
            None => jot_core::output::note(format!(
                "note: label {key} is longer than an AWS tag value allows ({MAX_VALUE_LEN}); it is not tagged"
            )),
        }
    }
    tags
}

/// True when tags mark a resource as made by jot.
pub fn is_jot(tags: Option<&std::collections::HashMap<String, String>>) -> bool {
    tags.is_some_and(|t| t.contains_key(labels::JOT_NAME) || t.contains_key(JOT_ROLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_values_stay_readable() {
        assert_eq!(
            encode_value("/src/increment_vector.jl").unwrap(),
            "/src/increment_vector.jl"
        );
        assert_eq!(
            encode_value("a b:c=d+e-f@g_h.i").unwrap(),
            "a b:c=d+e-f@g_h.i"
        );
    }

    #[test]
    fn other_values_round_trip_losslessly() {
        for value in [
            "Vector{Int}",
            "Dict{String, Vector{Float64}}",
            "NamedTuple{(:a, :b), Tuple{Int, String}}",
            "b64:looks-encoded",
            "ünïcode",
            "",
        ] {
            let encoded = encode_value(value).unwrap();
            assert!(encoded.chars().all(allowed), "{encoded}");
            assert_eq!(decode_value(&encoded).unwrap(), value);
        }
        assert!(
            encode_value("Vector{Int}")
                .unwrap()
                .starts_with(ENCODED_PREFIX)
        );
    }

    #[test]
    fn too_long_values_are_refused() {
        assert!(encode_value(&"a".repeat(256)).is_some());
        assert!(encode_value(&"a".repeat(257)).is_none());
        assert!(encode_value(&"{".repeat(190)).is_none());
    }
}

//! Image references (`[registry/]repository[:tag][@digest]`) and registry
//! logins: the one parser every tool uses, so an image field in a descriptor
//! is checked before anything acts on it (a reference such as
//! `"name:tag --privileged"` never reaches the engine).

use std::fmt;

use crate::error::{Error, Result};

/// A parsed image reference. `registry` is set only when the first path
/// component names a host (it has a `.` or `:` or is `localhost`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses and validates a reference as Docker's grammar allows it.
    pub fn parse(text: &str) -> Result<ImageRef> {
        let bad = |why: &str| {
            Error::InvalidInput(format!(
                "{text:?} is not an image reference ({why}); expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST]"
            ))
        };
        if text.is_empty() || text.len() > 512 {
            return Err(bad("empty or too long"));
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                let hex = digest
                    .strip_prefix("sha256:")
                    .ok_or_else(|| bad("digest"))?;
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad("digest"));
                }
                (name, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let (path, tag) = match name.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, Some(tag.to_string())),
            _ => (name, None),
        };
        if let Some(tag) = &tag {
            validate_tag_text(tag).map_err(|_| bad("tag"))?;
        }
        let (registry, repository) = match path.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                validate_registry("registry", first).map_err(|_| bad("registry"))?;
                (Some(first.to_string()), rest)
            }
            _ => (None, path),
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
                && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
                && c.ends_with(|ch: char| ch.is_ascii_alphanumeric())
        };
        if !repository.split('/').all(component_ok) {
            return Err(bad("repository"));
        }
        Ok(ImageRef {
            registry,
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// `registry/repository` (or the repository alone), without tag or digest.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// The repository's last component: the function name an image suggests.
    pub fn short_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// The tag, or Docker's default `latest` when there is neither tag nor digest.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn validate_tag_text(tag: &str) -> std::result::Result<(), ()> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    (first_ok && rest_ok && tag.len() <= 128)
        .then_some(())
        .ok_or(())
}

/// A registry host as Docker names them: HOST or HOST:PORT, no scheme, no
/// path. `what` names where it came from in the message (`--registry`).
pub fn validate_registry(what: &str, registry: &str) -> Result<()> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || registry.starts_with('[') => {
            (host, Some(port))
        }
        _ => (registry, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if registry.contains("://") || registry.contains('/') || !host_ok || !port_ok {
        return Err(Error::InvalidInput(format!(
            "{what} {registry:?} is not a registry host; give HOST or HOST:PORT (no scheme, no path), e.g. 127.0.0.1:4566"
        )));
    }
    Ok(())
}

/// The registry host of a repository URI (`host/repo` → `host`).
pub fn registry_of(repository_uri: &str) -> &str {
    repository_uri.split('/').next().unwrap_or(repository_uri)
}

/// Text that must never be printed: its Debug and Display show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }
    /// The secret itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Credentials for one registry, from ECR's authorization token; held in
/// memory for one push only.
#[derive(Debug, Clone)]
pub struct RegistryLogin {
    pub server: String,
    pub username: String,
    pub password: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_into_their_parts() {
        let r = ImageRef::parse("increment-vector:0123abc").unwrap();
        assert_eq!(r.registry, None);
        assert_eq!(r.repository, "increment-vector");
        assert_eq!(r.tag.as_deref(), Some("0123abc"));
        let r = ImageRef::parse("127.0.0.1:4566/team/name:t1").unwrap();
        assert_eq!(r.registry.as_deref(), Some("127.0.0.1:4566"));
        assert_eq!(r.repository, "team/name");
        assert_eq!(r.short_name(), "name");
        assert_eq!(r.to_string(), "127.0.0.1:4566/team/name:t1");
        let r = ImageRef::parse("127.0.0.1:4566/name").unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.tag_or_latest(), "latest");
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("name@{digest}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
        assert_eq!(r.tag, None);
        assert_eq!(ImageRef::parse("sha256").unwrap().repository, "sha256");
    }

    #[test]
    fn hostile_or_malformed_references_are_refused() {
        for bad in [
            "",
            "name:tag --privileged",
            "Name:tag",
            "name:",
            "name@sha256:00",
            "-name",
            "name/",
            "a b",
            "name:tag\n",
            "http://host/name",
            "name:.tag",
        ] {
            let err = ImageRef::parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::exit::BAD_INPUT, "{bad:?}");
        }
    }

    #[test]
    fn registry_hosts() {
        for good in ["127.0.0.1:4566", "registry.example.com", "[::1]:5000"] {
            assert!(validate_registry("r", good).is_ok(), "{good}");
        }
        for bad in [
            "http://127.0.0.1:4566",
            "host/path",
            "",
            "host:",
            "host:99999",
            "a b",
        ] {
            assert!(validate_registry("r", bad).is_err(), "{bad}");
        }
        assert_eq!(
            registry_of("123456789012.dkr.ecr.us-east-1.amazonaws.com/name"),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn secrets_never_show() {
        let login = RegistryLogin {
            server: "h".into(),
            username: "AWS".into(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{login:?}").contains("hunter2"));
        assert_eq!(login.password.expose(), "hunter2");
    }
}

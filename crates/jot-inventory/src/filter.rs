//! Which jots a command is about: exact names or globs (`inc-*`), none = all.

use jot_core::{Error, Result};

/// Names and glob patterns given on the command line.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    patterns: Vec<(String, glob::Pattern)>,
}

impl NameFilter {
    /// Checks every pattern before anything is listed.
    pub fn new(names: &[String]) -> Result<NameFilter> {
        let patterns = names
            .iter()
            .map(|name| {
                glob::Pattern::new(name)
                    .map(|p| (name.clone(), p))
                    .map_err(|e| Error::Usage(format!("name pattern {name:?}: {e}")))
            })
            .collect::<Result<_>>()?;
        Ok(NameFilter { patterns })
    }

    /// True when no name was given or `name` matches one of them.
    pub fn matches(&self, name: &str) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|(_, p)| p.matches(name))
    }

    /// The given names and patterns, as typed.
    pub fn given(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|(n, _)| n.as_str())
    }

    /// True when no name was given.
    pub fn is_everything(&self) -> bool {
        self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_globs() {
        let filter = NameFilter::new(&["inc-*".into(), "exact".into()]).unwrap();
        assert!(filter.matches("inc-vector"));
        assert!(filter.matches("exact"));
        assert!(!filter.matches("exact-not"));
        assert!(NameFilter::new(&[]).unwrap().matches("anything"));
        assert_eq!(
            NameFilter::new(&["[".into()]).unwrap_err().exit_code(),
            jot_core::error::exit::USAGE
        );
    }
}

//! A responder is the user's Julia code that answers invocations: a `.jl`
//! script or a package directory (with `Project.toml`). This module finds its
//! files, its function and module, and the tree hash that versions it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use jot_core::descriptor::{ResponderInfo, ResponderKind};
use jot_core::error::{Error, Result};
use jot_core::names;

/// Julia standard libraries: a package whose dependencies are all among these
/// builds with no network (no `Pkg.instantiate`).
pub const JULIA_STDLIBS: &[&str] = &[
    "ArgTools",
    "Artifacts",
    "Base64",
    "CRC32c",
    "Dates",
    "DelimitedFiles",
    "Distributed",
    "Downloads",
    "FileWatching",
    "Future",
    "InteractiveUtils",
    "LazyArtifacts",
    "LibCURL",
    "LibGit2",
    "Libdl",
    "LinearAlgebra",
    "Logging",
    "Markdown",
    "Mmap",
    "NetworkOptions",
    "Pkg",
    "Printf",
    "Profile",
    "REPL",
    "Random",
    "SHA",
    "Serialization",
    "SharedArrays",
    "Sockets",
    "SparseArrays",
    "Statistics",
    "SuiteSparse",
    "TOML",
    "Tar",
    "Test",
    "UUIDs",
    "Unicode",
];

/// The standard libraries in the lean system image (lean.jl): the runtime's.
pub const LEAN_STDLIBS: &[&str] = &["Base64", "Logging", "Sockets"];

/// The standard libraries `using`/`import` lines in `code` name that the lean
/// system image lacks (sorted, each once): their caches go into the image.
pub fn stdlib_imports(code: &str) -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        let Some(rest) = line
            .strip_prefix("using ")
            .or_else(|| line.strip_prefix("import "))
        else {
            continue;
        };
        let rest = rest.split('#').next().unwrap_or_default();
        // `using A: f, g` names one module; `using A, B.C` several.
        let modules = match rest.split_once(':') {
            Some((module, _)) => module,
            None => rest,
        };
        for item in modules.split(',') {
            let name = item
                .trim()
                .split(['.', ' ', ';'])
                .next()
                .unwrap_or_default();
            if JULIA_STDLIBS.contains(&name) && !LEAN_STDLIBS.contains(&name) {
                found.insert(name.to_string());
            }
        }
    }
    found.into_iter().collect()
}

/// One file of a responder, with its path inside the responder.
#[derive(Debug, Clone)]
pub struct ResponderFile {
    pub relative: String,
    pub contents: Vec<u8>,
}

/// A responder read from disk, ready to be put into an image.
#[derive(Debug, Clone)]
pub struct Responder {
    pub info: ResponderInfo,
    pub files: Vec<ResponderFile>,
    /// Package dependencies that are not standard libraries (need `Pkg.instantiate`).
    pub registry_dependencies: Vec<String>,
    /// When the newest file last changed: the image's `created` label, so an
    /// unchanged responder builds to the same image.
    pub modified: SystemTime,
}

impl Responder {
    /// A script's imports of standard libraries outside the lean system image
    /// (none for a package: its own precompilation caches what it loads).
    pub fn stdlib_imports(&self) -> Vec<String> {
        if self.info.kind != ResponderKind::Script {
            return Vec::new();
        }
        let code: Vec<String> = self
            .files
            .iter()
            .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
            .collect();
        stdlib_imports(&code.join("\n"))
    }

    /// Reads the responder at `path`. `function` defaults to the script's stem or
    /// the package's name; `arg_type` to `Any`.
    pub fn load(path: &Path, function: Option<&str>, arg_type: Option<&str>) -> Result<Self> {
        let bad = |message: String| Error::Responder {
            path: path.to_path_buf(),
            message,
        };
        let absolute = std::fs::canonicalize(path).map_err(|e| {
            bad(format!(
                "cannot read it ({e}); pass a Julia script (.jl) or a package directory with a Project.toml"
            ))
        })?;
        let arg_type = arg_type.unwrap_or("Any").trim().to_string();
        names::validate_arg_type(&arg_type)?;
        let mut responder = if absolute.is_dir() {
            Self::load_package(&absolute, function)?
        } else {
            Self::load_script(&absolute, function)?
        };
        responder.info.arg_type = arg_type;
        names::validate_julia_identifier("function", &responder.info.function)?;
        responder.check_function_mentioned()?;
        Ok(responder)
    }

    fn load_script(path: &Path, function: Option<&str>) -> Result<Self> {
        let bad = |message: String| Error::Responder {
            path: path.to_path_buf(),
            message,
        };
        if path.extension().and_then(|e| e.to_str()) != Some("jl") {
            return Err(bad(
                "a script responder must be a Julia file ending in .jl (or pass a package directory)".into(),
            ));
        }
        let file_name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let function = match function {
            Some(f) => f.to_string(),
            None => {
                names::validate_julia_identifier("function", &stem).map_err(|_| {
                    bad(format!(
                        "the file name {stem:?} is not a Julia function name; pass --function NAME"
                    ))
                })?;
                stem
            }
        };
        let contents = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let modified = modified_time(path);
        Ok(Responder {
            info: ResponderInfo {
                source: path.to_string_lossy().into(),
                kind: ResponderKind::Script,
                module: None,
                function,
                arg_type: String::new(),
                tree_hash: String::new(),
            },
            files: vec![ResponderFile {
                relative: file_name,
                contents,
            }],
            registry_dependencies: Vec::new(),
            modified,
        }
        .with_tree_hash())
    }

    fn load_package(dir: &Path, function: Option<&str>) -> Result<Self> {
        let bad = |message: String| Error::Responder {
            path: dir.to_path_buf(),
            message,
        };
        let project_path = dir.join("Project.toml");
        let project_text = std::fs::read_to_string(&project_path).map_err(|_| {
            bad("a package responder needs a Project.toml with `name` and `uuid` (or pass a .jl script)".into())
        })?;
        let project: toml::Table = project_text
            .parse()
            .map_err(|e| bad(format!("Project.toml does not parse: {e}")))?;
        let module = project
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("Project.toml has no `name`; add `name = \"MyPackage\"`".into()))?
            .to_string();
        names::validate_julia_identifier("package name", &module)?;
        if !dir.join("src").join(format!("{module}.jl")).is_file() {
            return Err(bad(format!("the package has no src/{module}.jl")));
        }
        // Neither standard libraries nor packages the Manifest tracks by path
        // (local packages shipped in the package's own directory) need Pkg.
        let local = std::fs::read_to_string(dir.join("Manifest.toml"))
            .map(|text| path_dependencies(&text))
            .unwrap_or_default();
        let registry_dependencies = project
            .get("deps")
            .and_then(|d| d.as_table())
            .map(|deps| {
                deps.keys()
                    .filter(|name| {
                        !JULIA_STDLIBS.contains(&name.as_str()) && !local.contains(*name)
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let mut files = Vec::new();
        let mut modified = SystemTime::UNIX_EPOCH;
        collect_files(dir, dir, &mut files, &mut modified)?;
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(Responder {
            info: ResponderInfo {
                source: dir.to_string_lossy().into(),
                kind: ResponderKind::Package,
                function: function.unwrap_or(&module).to_string(),
                module: Some(module),
                arg_type: String::new(),
                tree_hash: String::new(),
            },
            files,
            registry_dependencies,
            modified,
        }
        .with_tree_hash())
    }

    /// SHA-256 over every file's path and contents, in path order.
    fn with_tree_hash(mut self) -> Self {
        let mut hasher = Sha256::new();
        for file in &self.files {
            hasher.update(file.relative.as_bytes());
            hasher.update([0]);
            hasher.update((file.contents.len() as u64).to_le_bytes());
            hasher.update(&file.contents);
        }
        self.info.tree_hash = hex(&hasher.finalize());
        self
    }

    /// Refuses a function name that appears nowhere in the code: it cannot be
    /// defined there, and saying so now beats an init error after a build.
    fn check_function_mentioned(&self) -> Result<()> {
        let function = &self.info.function;
        let mentioned = self
            .files
            .iter()
            .filter(|f| f.relative.ends_with(".jl"))
            .any(|f| contains_word(&String::from_utf8_lossy(&f.contents), function));
        if mentioned {
            Ok(())
        } else {
            Err(Error::Responder {
                path: PathBuf::from(&self.info.source),
                message: format!(
                    "function `{function}` is not defined there; define it or pass --function NAME"
                ),
            })
        }
    }
}

/// The packages a Manifest.toml tracks by `path` (both its formats: the
/// entries at the top, or under `[deps]` from Julia 1.7 on).
fn path_dependencies(manifest: &str) -> Vec<String> {
    let Ok(table) = manifest.parse::<toml::Table>() else {
        return Vec::new();
    };
    let entries = match table.get("deps").and_then(|d| d.as_table()) {
        Some(deps) if table.contains_key("manifest_format") => deps,
        _ => &table,
    };
    entries
        .iter()
        .filter(|(_, versions)| {
            versions
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v.get("path").is_some()))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

fn collect_files(
    root: &Path,
    dir: &Path,
    files: &mut Vec<ResponderFile>,
    newest: &mut SystemTime,
) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, files, newest)?;
        } else if path.is_file() {
            let contents = std::fs::read(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            *newest = (*newest).max(modified_time(&path));
            files.push(ResponderFile { relative, contents });
        }
    }
    Ok(())
}

fn modified_time(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// True when `word` occurs in `text` not as part of a longer identifier.
fn contains_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '!';
    text.match_indices(word).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Lower-case hexadecimal of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_tracked_packages_are_local_in_both_manifest_formats() {
        let old = "[[Printf]]\nuuid = \"de0858da\"\n\n[[SalesCore]]\npath = \"SalesCore\"\nuuid = \"0c5e\"\n";
        assert_eq!(path_dependencies(old), ["SalesCore"]);
        let new = "manifest_format = \"2.0\"\n[[deps.SalesCore]]\npath = \"lib/SalesCore\"\nuuid = \"0c5e\"\n[[deps.JSON]]\nuuid = \"682c\"\nversion = \"0.21.0\"\n";
        assert_eq!(path_dependencies(new), ["SalesCore"]);
        assert!(path_dependencies("not toml [").is_empty());
    }

    #[test]
    fn loads_a_script_and_hashes_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("increment_vector.jl");
        std::fs::write(&path, "increment_vector(v) = v .+ 1\n").unwrap();
        let first = Responder::load(&path, None, Some("Vector{Int}")).unwrap();
        assert_eq!(first.info.function, "increment_vector");
        assert_eq!(first.info.kind, ResponderKind::Script);
        assert_eq!(first.info.tree_hash.len(), 64);
        std::fs::write(&path, "increment_vector(v) = v .+ 2\n").unwrap();
        let second = Responder::load(&path, None, None).unwrap();
        assert_ne!(first.info.tree_hash, second.info.tree_hash);
        assert_eq!(second.info.arg_type, "Any");
    }

    #[test]
    fn refuses_a_function_that_is_not_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jl");
        std::fs::write(&path, "g(x) = x\nfoo_f(x) = 1\n").unwrap();
        let err = Responder::load(&path, None, None).unwrap_err().to_string();
        assert!(err.contains("function `f` is not defined"), "{err}");
        assert!(Responder::load(&path, Some("g"), None).is_ok());
    }

    #[test]
    fn refuses_missing_paths_and_non_julia_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = Responder::load(&dir.path().join("nope.jl"), None, None).unwrap_err();
        assert!(err.to_string().contains("cannot read it"));
        let txt = dir.path().join("f.txt");
        std::fs::write(&txt, "f(x)=x").unwrap();
        assert!(
            Responder::load(&txt, None, None)
                .unwrap_err()
                .to_string()
                .contains(".jl")
        );
        assert!(
            Responder::load(dir.path(), None, None)
                .unwrap_err()
                .to_string()
                .contains("Project.toml")
        );
    }

    #[test]
    fn loads_a_package_and_finds_registry_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("Project.toml"),
            "name = \"Greeter\"\nuuid = \"8f5b7a42-2b55-4a6c-9c53-1d0e1c0f6b11\"\n[deps]\nDates = \"ade2ca70-3891-5945-98fb-dc099432e06a\"\nJSON3 = \"0f8b85d8-7281-11e9-16c2-39a750bddbf1\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("src/Greeter.jl"),
            "module Greeter\ngreet(x) = x\nend\n",
        )
        .unwrap();
        let package = Responder::load(dir.path(), Some("greet"), None).unwrap();
        assert_eq!(package.info.module.as_deref(), Some("Greeter"));
        assert_eq!(package.registry_dependencies, vec!["JSON3".to_string()]);
        assert_eq!(package.files.len(), 2);
    }

    #[test]
    fn finds_whole_words_only() {
        assert!(contains_word("f(x) = 1", "f"));
        assert!(!contains_word("foo_f(x) = 1", "f"));
        assert!(contains_word("function mutate!(x) end", "mutate!"));
    }
}

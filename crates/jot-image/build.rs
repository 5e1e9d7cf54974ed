//! Embeds every file of `runtime-template/` that goes into an image, so an
//! installed jot-build needs nothing else on disk and a new runtime file needs
//! no Rust change. Skipped: the Dockerfile template (embedded on its own), the
//! README and any `test/` folder (the runtime's own tests stay out of images).

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runtime-template");
    let root = root
        .canonicalize()
        .expect("runtime-template/ beside crates/");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for (relative, path, executable) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let mode = if *executable { 0o755 } else { 0o644 };
        code.push_str(&format!(
            "    RuntimeFile {{ path: {relative:?}, contents: include_bytes!({:?}), mode: {mode:#o} }},\n",
            path.display().to_string()
        ));
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("runtime_files.rs");
    std::fs::write(out, code).expect("write runtime_files.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf, bool)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read runtime-template/")
        .map(|e| e.expect("read runtime-template/ entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = path
            .strip_prefix(root)
            .expect("under runtime-template/")
            .to_string_lossy()
            .into_owned();
        let meta = entry.metadata().expect("runtime-template/ metadata");
        if meta.is_dir() {
            if name != "test" && !name.starts_with('.') {
                collect(root, &path, files);
            }
        } else if relative != "Dockerfile.in" && relative != "README.md" && !name.starts_with('.') {
            use std::os::unix::fs::PermissionsExt;
            let executable = meta.permissions().mode() & 0o111 != 0;
            files.push((relative, path, executable));
        }
    }
}

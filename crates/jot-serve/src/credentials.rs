//! The user's credentials for jot-serve's control plane: an AWS shared
//! credentials file (profile `jot-serve`), readable by the user alone,
//! removed when jot-serve ends, and one line saying how to point boto3 and
//! the AWS CLI at it (the secret itself is never printed).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jot_core::{Error, Result};
use jot_run::auth::Credentials;

/// The profile the file holds.
pub const PROFILE: &str = "jot-serve";

/// The file; removed when dropped (every way jot-serve ends but SIGKILL,
/// after which its keys are worthless anyway).
pub struct CredentialsFile {
    path: PathBuf,
}

impl CredentialsFile {
    /// Writes `credentials` to `path` (else `STATE/jot/serve/PORT.credentials`)
    /// through a 0600 temporary file renamed into place, so no other user can
    /// ever read it, even for a moment.
    pub fn write(path: Option<PathBuf>, port: u16, credentials: &Credentials) -> Result<Self> {
        let path =
            path.unwrap_or_else(|| jot_run::state_dir().join(format!("serve/{port}.credentials")));
        let io = |e| {
            Error::io(
                format!("writing the credentials file {}", path.display()),
                e,
            )
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let temporary = dir.join(format!(".jot-serve-{}.tmp", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io)?;
        let written = file
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .and_then(|_| file.write_all(credentials.shared_file(PROFILE).as_bytes()))
            .and_then(|_| std::fs::rename(&temporary, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(io(e));
        }
        Ok(CredentialsFile { path })
    }

    /// The line telling a shell to use the file (with `endpoint` and `region`).
    pub fn export_line(&self, endpoint: &str, region: &str) -> String {
        format!(
            "export AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE={PROFILE} AWS_ENDPOINT_URL_LAMBDA={endpoint} AWS_REGION={region}",
            shell_quote(&self.path.to_string_lossy())
        )
    }
}

impl Drop for CredentialsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn shell_quote(text: &str) -> String {
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_the_users_alone_and_goes_with_jot_serve() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a dir/creds");
        let credentials = Credentials::generate("JOTU");
        let file = CredentialsFile::write(Some(path.clone()), 9001, &credentials).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("[jot-serve]\n") && text.contains(&credentials.access_key_id));
        let line = file.export_line("http://127.0.0.1:9001", "us-east-1");
        assert!(line.contains("AWS_SHARED_CREDENTIALS_FILE='"), "{line}");
        assert!(!line.contains(credentials.secret_access_key.expose()));
        drop(file);
        assert!(!path.exists());
    }
}

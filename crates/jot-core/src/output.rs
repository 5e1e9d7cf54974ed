//! Everything meant for a person goes to stderr: notes, warnings and progress.
//! stdout carries only descriptors or function responses, so pipes stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Prints a one-line note for the user on stderr.
pub fn note(message: impl AsRef<str>) {
    eprintln!("{}", message.as_ref());
}

/// True when stderr is a terminal, i.e. a person is watching progress.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A spinner with a message on stderr; hidden when stderr is not a terminal so
/// logs and CI output stay free of control characters.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    if !stderr_is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar counting bytes on stderr (hidden when stderr is not a terminal).
pub fn byte_bar(prefix: impl Into<String>, total: u64) -> ProgressBar {
    if !stderr_is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {bytes}/{total_bytes} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.into());
    bar
}

//! Everything meant for a person goes to stderr: notes, warnings and progress.
//! stdout carries only descriptors or function responses, so pipes stay clean.
//!
//! One setting per process, from the flags every tool shares
//! (`--color`, `-q`, `-v`; see [`crate::cli::OutputArgs`]): colour follows
//! `--color`, then NO_COLOR, then whether stderr is a terminal; `-q` keeps
//! only warnings and errors; `-v` adds detail. Without a terminal, progress is
//! a plain line when a step starts and one when it ends, so a CI log shows
//! that a long step runs and how long it took.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    color: bool,
    verbosity: Verbosity,
    terminal: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Sets this process's output once (later calls are ignored).
pub fn configure(color: ColorChoice, verbosity: Verbosity) {
    let terminal = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    };
    let _ = SETTINGS.set(Settings {
        color,
        verbosity,
        terminal,
    });
}

fn settings() -> Settings {
    *SETTINGS.get_or_init(|| {
        let terminal = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Settings {
            color: terminal && !no_color,
            verbosity: Verbosity::Normal,
            terminal,
        }
    })
}

/// Whether colour codes may be written.
pub fn color_enabled() -> bool {
    settings().color
}

/// The current verbosity.
pub fn verbosity() -> Verbosity {
    settings().verbosity
}

/// True when stderr is a terminal, i.e. a person is watching progress.
pub fn stderr_is_terminal() -> bool {
    settings().terminal
}

/// `text` in a colour (an ANSI SGR code such as "31" for red) when colour is on.
pub fn paint(text: &str, sgr: &str) -> String {
    if color_enabled() {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A one-line note for the user on stderr (not with `-q`).
pub fn note(message: impl AsRef<str>) {
    if verbosity() >= Verbosity::Normal {
        eprintln!("{}", message.as_ref());
    }
}

/// A warning: printed even with `-q`.
pub fn warn(message: impl AsRef<str>) {
    eprintln!("{}", paint(message.as_ref(), "33"));
}

/// Detail for `-v` only.
pub fn detail(message: impl AsRef<str>) {
    if verbosity() >= Verbosity::Verbose {
        eprintln!("{}", message.as_ref());
    }
}

/// A long step: a spinner on a terminal; without one, a plain line when it
/// starts and one with its duration when it ends. Silent with `-q`.
pub struct Step {
    bar: ProgressBar,
    title: String,
    started: Instant,
    plain: bool,
}

impl Step {
    pub fn start(title: impl Into<String>) -> Step {
        let title = title.into();
        let s = settings();
        let plain = !s.terminal && s.verbosity >= Verbosity::Normal;
        if plain {
            eprintln!("{title} ...");
        }
        let bar = if s.terminal && s.verbosity >= Verbosity::Normal {
            spinner_bar(&title)
        } else {
            ProgressBar::hidden()
        };
        Step {
            bar,
            title,
            started: Instant::now(),
            plain,
        }
    }

    /// A new phase of the step; on a terminal it replaces the spinner's text,
    /// without one it is a plain line (shown with `-v`, or when `always`).
    pub fn phase(&self, message: impl Into<String>, always: bool) {
        let message = message.into();
        if self.plain && (always || verbosity() >= Verbosity::Verbose) {
            eprintln!("{}: {message}", self.title);
        }
        self.bar.set_message(message);
    }

    /// Ends the step; without a terminal, says how long it took.
    pub fn finish(self) {
        self.bar.finish_and_clear();
        if self.plain {
            eprintln!(
                "{}: done in {}",
                self.title,
                format_duration(self.started.elapsed())
            );
        }
    }
}

/// "0.12 s", "2 min 05 s".
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        format!("{} min {:02} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

fn spinner_bar(prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(prefix.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A spinner with a message on stderr; hidden when stderr is not a terminal
/// (or with `-q`) so logs stay free of control characters.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let s = settings();
    if !s.terminal || s.verbosity == Verbosity::Quiet {
        return ProgressBar::hidden();
    }
    spinner_bar(&message.into())
}

/// A bar counting bytes on stderr (hidden when stderr is not a terminal).
pub fn byte_bar(prefix: impl Into<String>, total: u64) -> ProgressBar {
    let s = settings();
    if !s.terminal || s.verbosity == Verbosity::Quiet {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(format_duration(Duration::from_millis(120)), "0.12 s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2 min 05 s");
    }
}

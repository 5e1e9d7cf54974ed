//! The table a person reads: one row per jot, newest first, the status in
//! colour (when colour is on); with every version, one line per copy below.

use std::time::SystemTime;

use crate::model::{Jot, lambda_time};
use crate::plan::Plan;

const HEADERS: [&str; 6] = ["NAME", "STATUS", "SOURCE", "LOCAL", "ECR", "FUNCTION"];

/// The table of `jots`; `all_versions` adds a line per local image, ECR
/// image, published version and alias; `colour` paints the status (the
/// caller decides: stdout is a terminal, `--color`, NO_COLOR).
pub fn render(jots: &[Jot], all_versions: bool, colour: bool) -> String {
    let now = now();
    let rows: Vec<[String; 6]> = jots.iter().map(|jot| row(jot, now)).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = line(&HEADERS.map(String::from), &widths, None);
    for (jot, row) in jots.iter().zip(&rows) {
        let sgr = colour.then(|| jot.status.colour());
        text.push_str(&line(row, &widths, sgr));
        if all_versions {
            for detail in details(jot, now) {
                text.push_str(&format!("    {detail}\n"));
            }
        }
    }
    text
}

fn line(cells: &[String; 6], widths: &[usize; 6], colour: Option<&str>) -> String {
    let mut text = String::new();
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let padded = if index + 1 == cells.len() {
            cell.clone()
        } else {
            format!("{cell:<width$}  ")
        };
        match colour {
            Some(sgr) if index == 1 => text.push_str(&format!("\x1b[{sgr}m{padded}\x1b[0m")),
            _ => text.push_str(&padded),
        }
    }
    text.truncate(text.trim_end().len());
    text.push('\n');
    text
}

fn row(jot: &Jot, now: i64) -> [String; 6] {
    let mut name = jot.name.clone();
    if jot.is_foreign() {
        name.push_str(" (foreign)");
    }
    let local = jot.local.first().map_or_else(
        || "-".to_string(),
        |l| {
            format!(
                "{} {} {} {}",
                l.references
                    .first()
                    .and_then(|r| r.rsplit_once(':'))
                    .map_or("-", |(_, tag)| tag),
                short_id(&l.id),
                size(l.size),
                age(now - l.created)
            )
        },
    );
    let ecr = match (&jot.repository, jot.ecr_known) {
        (Some(r), _) => r.images.first().map_or_else(
            || "empty repository".to_string(),
            |i| {
                format!(
                    "{} {} {} {}",
                    i.tags.first().map_or("-", String::as_str),
                    short_id(&i.digest),
                    i.size.map_or_else(|| "?".into(), size),
                    i.pushed_at
                        .map_or_else(|| "?".into(), |t| age(now - unix(t)))
                )
            },
        ),
        (None, true) => "-".into(),
        (None, false) => "?".into(),
    };
    let function = match (&jot.function, jot.lambda_known) {
        (Some(f), _) => {
            let mut text = format!(
                "{} {}MB {}s {}",
                f.state,
                f.memory.unwrap_or_default(),
                f.timeout.unwrap_or_default(),
                lambda_time(&f.latest.last_modified).map_or_else(|| "?".into(), |t| age(now - t))
            );
            if let Some(newest) = f.versions.last() {
                text.push_str(&format!(" v{}", newest.version));
            }
            for alias in &f.aliases {
                text.push_str(&format!(" {}→{}", alias.name, alias.version));
            }
            text
        }
        (None, true) => "-".into(),
        (None, false) => "?".into(),
    };
    [
        name,
        jot.status.text(),
        jot.source.as_str().to_string(),
        local,
        ecr,
        function,
    ]
}

fn details(jot: &Jot, now: i64) -> Vec<String> {
    let mut lines = Vec::new();
    for l in &jot.local {
        lines.push(format!(
            "local   {} {} {} {}",
            l.references.join(" "),
            short_id(&l.id),
            size(l.size),
            age(now - l.created)
        ));
    }
    if let Some(r) = &jot.repository {
        for i in &r.images {
            lines.push(format!(
                "ecr     {}@{} [{}] {}",
                r.name,
                i.digest,
                i.tags.join(" "),
                i.pushed_at
                    .map_or_else(|| "?".into(), |t| age(now - unix(t)))
            ));
        }
    }
    if let Some(f) = &jot.function {
        let digest = |d: &Option<String>| d.clone().unwrap_or_else(|| "?".into());
        lines.push(format!(
            "lambda  $LATEST {} {}",
            digest(&f.latest.digest),
            f.latest.last_modified
        ));
        for v in &f.versions {
            lines.push(format!(
                "lambda  version {} {} {}",
                v.version,
                digest(&v.digest),
                v.last_modified
            ));
        }
        for a in &f.aliases {
            let weights: Vec<String> = a
                .weights
                .iter()
                .map(|(v, w)| format!("{v}:{:.0}%", w * 100.0))
                .collect();
            lines.push(format!(
                "lambda  alias {} → {}{}",
                a.name,
                a.version,
                if weights.is_empty() {
                    String::new()
                } else {
                    format!(" + {}", weights.join(" "))
                }
            ));
        }
    }
    lines
}

/// The plan as `--dry-run` prints it and as the real run follows it.
pub fn render_plan(plan: &Plan) -> String {
    let mut text = String::new();
    if plan.steps.is_empty() {
        text.push_str("nothing to remove\n");
    }
    for (index, step) in plan.steps.iter().enumerate() {
        text.push_str(&format!("{:>3}. delete {step}\n", index + 1));
    }
    for kept in &plan.kept {
        text.push_str(&format!("     keep {}: {}\n", kept.what, kept.reason));
    }
    for unknown in &plan.unknown {
        text.push_str(&format!("     left {unknown}\n"));
    }
    text
}

fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

fn size(bytes: i64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb >= 1000.0 {
        format!("{:.1}GB", mb / 1000.0)
    } else {
        format!("{mb:.0}MB")
    }
}

fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

fn unix(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn now() -> i64 {
    unix(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_sizes_read_short() {
        assert_eq!(age(5), "5s ago");
        assert_eq!(age(7200), "2h ago");
        assert_eq!(size(1_500_000_000), "1.5GB");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}

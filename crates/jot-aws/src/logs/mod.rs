//! A Lambda function's CloudWatch Logs (`/aws/lambda/NAME`) for `jot-logs`:
//! one read of everything since a time, paged to the end, and a follow that
//! polls again and again without showing an event twice or skipping one.
//!
//! Events come back as values (with their REPORT line parsed); printing them
//! is the binary's work.

pub mod report;

use std::collections::{BTreeSet, HashMap};

pub use report::Report;

use jot_core::error::AwsFailure;

use crate::{Aws, AwsError, Result};

/// AWS's limit on the length of a filter pattern.
pub const MAX_FILTER_PATTERN: usize = 1024;

/// How far back each poll of a follow reads again: an event that CloudWatch
/// takes in up to this late (its timestamp older than the newest one shown)
/// is still shown, once.
pub const FOLLOW_OVERLAP_MS: i64 = 30_000;

/// The log group Lambda writes a function's logs to.
pub fn log_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// The function's name in a name or a function ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`).
pub fn function_name(given: &str) -> &str {
    if given.starts_with("arn:") {
        given.split(':').nth(6).unwrap_or(given)
    } else {
        given
    }
}

/// The version a log stream belongs to: Lambda names streams
/// `YYYY/MM/DD/[VERSION]ID`.
pub fn stream_version(stream: &str) -> Option<&str> {
    let rest = &stream[stream.find('[')? + 1..];
    Some(&rest[..rest.find(']')?])
}

/// One event of a function's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub function: String,
    pub stream: String,
    /// The version whose execution environment wrote it (from the stream's name).
    pub version: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub message: String,
    /// The parsed REPORT line, when the event is one.
    pub report: Option<Report>,
    /// What makes the event unique: CloudWatch's event id, or (where a
    /// service gives none) its stream, time, text and rank among its equals.
    key: String,
}

/// Which versions' events to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Versions {
    #[default]
    All,
    /// Only those written by these versions (`$LATEST` or numbers).
    Only(BTreeSet<String>),
}

impl Versions {
    fn admits(&self, stream: &str) -> bool {
        match self {
            Versions::All => true,
            Versions::Only(set) => stream_version(stream).is_some_and(|v| set.contains(v)),
        }
    }
}

/// What to read of one function's log.
#[derive(Debug, Clone)]
pub struct Query {
    pub function: String,
    /// A CloudWatch Logs filter pattern, applied by the service.
    pub filter: Option<String>,
    pub versions: Versions,
}

/// The versions an alias sends invocations to: its version and, while it
/// shifts traffic, the additional one.
pub async fn alias_versions(aws: &Aws, function: &str, alias: &str) -> Result<BTreeSet<String>> {
    let ctx = aws.context("Lambda");
    let answer = aws
        .lambda()
        .get_alias()
        .function_name(function)
        .name(alias)
        .send()
        .await
        .map_err(|e| ctx.sdk(&format!("GetAlias {function}:{alias}"), e))?;
    let mut versions: BTreeSet<String> = answer
        .function_version()
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(weights) = answer
        .routing_config()
        .and_then(|r| r.additional_version_weights())
    {
        versions.extend(weights.keys().cloned());
    }
    Ok(versions)
}

/// Whether the function exists (to tell "never ran" from "no such function").
pub async fn function_exists(aws: &Aws, function: &str) -> Result<bool> {
    let ctx = aws.context("Lambda");
    match aws
        .lambda()
        .get_function()
        .function_name(function)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => match ctx.sdk(&format!("GetFunction {function}"), e) {
            e if e.failure() == Some(AwsFailure::NotFound) => Ok(false),
            e => Err(e),
        },
    }
}

impl Query {
    /// Every event since `start_ms` (milliseconds since the epoch), oldest
    /// first, paged to the end; `None` when the function has no log group
    /// (it has never run).
    pub async fn fetch(&self, aws: &Aws, start_ms: i64) -> Result<Option<Vec<LogEvent>>> {
        let ctx = aws.context("CloudWatch Logs");
        let client = aws.logs();
        let group = log_group(&self.function);
        let mut events = Vec::new();
        let mut ranks: HashMap<(String, i64, String), usize> = HashMap::new();
        let mut token: Option<String> = None;
        loop {
            let sent = token.clone();
            let answer = client
                .filter_log_events()
                .log_group_name(&group)
                .start_time(start_ms)
                .set_filter_pattern(self.filter.clone())
                .set_next_token(sent.clone())
                .send()
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(e) => {
                    return missing_group_is_none(ctx.sdk(&format!("FilterLogEvents {group}"), e));
                }
            };
            for event in answer.events() {
                let stream = event.log_stream_name().unwrap_or_default().to_string();
                if !self.versions.admits(&stream) {
                    continue;
                }
                let timestamp_ms = event.timestamp().unwrap_or_default();
                let message = event.message().unwrap_or_default().to_string();
                let key = match event.event_id() {
                    Some(id) => id.to_string(),
                    None => {
                        let rank = ranks
                            .entry((stream.clone(), timestamp_ms, message.clone()))
                            .or_default();
                        *rank += 1;
                        format!("{stream}\u{0}{timestamp_ms}\u{0}{rank}\u{0}{message}")
                    }
                };
                events.push(LogEvent {
                    function: self.function.clone(),
                    version: stream_version(&stream).map(str::to_string),
                    stream,
                    timestamp_ms,
                    report: Report::parse(&message),
                    message,
                    key,
                });
            }
            token = answer.next_token().map(str::to_string);
            // The end, or a service that hands back the token it was given.
            if token.is_none() || token == sent {
                break;
            }
        }
        events.sort_by_key(|e| e.timestamp_ms);
        Ok(Some(events))
    }
}

fn missing_group_is_none<T>(error: AwsError) -> Result<Option<T>> {
    if error.failure() == Some(AwsFailure::NotFound) {
        Ok(None)
    } else {
        Err(error)
    }
}

/// A follow of one function's log: each [`Follow::poll`] returns the events
/// that are new since the last, each once.
#[derive(Debug)]
pub struct Follow {
    pub query: Query,
    since_ms: i64,
    /// The newest timestamp shown so far.
    newest_ms: i64,
    /// The events shown within the overlap (by key, with their timestamps).
    shown: HashMap<String, i64>,
}

impl Follow {
    pub fn new(query: Query, since_ms: i64) -> Follow {
        Follow {
            query,
            since_ms,
            newest_ms: since_ms,
            shown: HashMap::new(),
        }
    }

    /// The events not returned before; `None` while the function has no log group.
    pub async fn poll(&mut self, aws: &Aws) -> Result<Option<Vec<LogEvent>>> {
        let start = self.since_ms.max(self.newest_ms - FOLLOW_OVERLAP_MS);
        let Some(events) = self.query.fetch(aws, start).await? else {
            return Ok(None);
        };
        Ok(Some(self.take_new(events)))
    }

    /// Keeps the events not shown yet and remembers them.
    fn take_new(&mut self, events: Vec<LogEvent>) -> Vec<LogEvent> {
        let mut fresh = Vec::new();
        for event in events {
            if self.shown.contains_key(&event.key) {
                continue;
            }
            self.shown.insert(event.key.clone(), event.timestamp_ms);
            self.newest_ms = self.newest_ms.max(event.timestamp_ms);
            fresh.push(event);
        }
        // What the next poll cannot return again needs no remembering.
        let horizon = self.newest_ms - FOLLOW_OVERLAP_MS;
        self.shown.retain(|_, at| *at >= horizon);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stream: &str, at: i64, message: &str, rank: usize) -> LogEvent {
        LogEvent {
            function: "f".into(),
            stream: stream.into(),
            version: stream_version(stream).map(str::to_string),
            timestamp_ms: at,
            message: message.into(),
            report: Report::parse(message),
            key: format!("{stream}\u{0}{at}\u{0}{rank}\u{0}{message}"),
        }
    }

    #[test]
    fn names_groups_and_stream_versions() {
        assert_eq!(log_group("inc"), "/aws/lambda/inc");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:inc:live"),
            "inc"
        );
        assert_eq!(function_name("inc"), "inc");
        assert_eq!(stream_version("2026/12/06/[$LATEST]abc"), Some("$LATEST"));
        assert_eq!(stream_version("2026/12/06/[12]abc"), Some("12"));
        assert_eq!(stream_version("no-version"), None);
        let only = Versions::Only(["3".to_string()].into());
        assert!(only.admits("2026/12/06/[3]abc"));
        assert!(!only.admits("2026/12/06/[$LATEST]abc"));
        assert!(!only.admits("2026/12/06/[33]abc"));
    }

    #[test]
    fn a_follow_shows_each_event_once_including_equal_lines_and_late_ones() {
        let query = Query {
            function: "f".into(),
            filter: None,
            versions: Versions::All,
        };
        let mut follow = Follow::new(query, 1_000);
        let s = "2026/12/06/[$LATEST]a";
        let first = vec![event(s, 2_000, "hi", 1), event(s, 2_000, "hi", 2)];
        assert_eq!(
            follow.take_new(first.clone()).len(),
            2,
            "two equal lines are two events"
        );
        // The next poll returns them again (the overlap) and one more, and one
        // that arrived late with an older timestamp.
        let mut second = first;
        second.push(event(s, 1_500, "late", 1));
        second.push(event(s, 3_000, "new", 1));
        let fresh: Vec<String> = follow
            .take_new(second)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(fresh, ["late", "new"]);
        assert!(follow.take_new(vec![event(s, 3_000, "new", 1)]).is_empty());
        // Events older than the overlap are forgotten, and never asked for again.
        follow.take_new(vec![event(
            s,
            3_000 + FOLLOW_OVERLAP_MS + 1,
            "much later",
            1,
        )]);
        assert_eq!(follow.shown.len(), 1);
        assert_eq!(
            follow.since_ms.max(follow.newest_ms - FOLLOW_OVERLAP_MS),
            3_001
        );
    }
}

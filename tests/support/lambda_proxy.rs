//! A recording proxy in front of MiniStack's Lambda API
//! (`AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:PORT`), so a test can force an
//! interleaving of concurrent runs and see from Lambda's side what happened:
//! it can hold the first request of a kind until another run's request of
//! that kind has been answered. Each request gets its own upstream connection
//! with `Connection: close`, and the answer closes the client's connection, so
//! every request is read whole (bodies by `Content-Length`, as the SDK sends).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// One request Lambda answered.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub body: String,
    pub status: u16,
    /// Whether the proxy held this request back before forwarding it.
    pub held: bool,
}

#[derive(Default)]
struct State {
    log: Vec<Exchange>,
    /// `(method, path suffix)` of the requests to interleave.
    hold: Option<(String, String)>,
    /// The body of the request being held (or released once held).
    held_body: Option<String>,
    released: bool,
    /// Released by [`LambdaProxy::release`] only, not by another run's request.
    manual: bool,
}

pub struct LambdaProxy {
    pub endpoint: String,
    shared: super::proxy::Shared<State>,
}

/// How long a held request waits for another run's request at most: far
/// more than two deploys take to reach their update, so a release by this
/// timeout means the other run never came (and the test's checks fail).
const HOLD_AT_MOST: Duration = Duration::from_secs(60);

impl LambdaProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> LambdaProxy {
        let (host, shared) = super::proxy::listen(upstream, relay);
        LambdaProxy {
            endpoint: format!("http://{host}"),
            shared,
        }
    }

    /// Holds the first `method` request whose path ends with `suffix` until
    /// a request of the same kind with another body has been answered (once).
    pub fn hold_first_until_another(&self, method: &str, suffix: &str) {
        let mut state = self.shared.0.lock().unwrap();
        state.hold = Some((method.to_string(), suffix.to_string()));
        state.held_body = None;
        state.released = false;
        state.manual = false;
    }

    /// Holds the first `method` request whose path ends with `suffix` until
    /// [`LambdaProxy::release`]; [`LambdaProxy::wait_held`] waits for it to come.
    pub fn hold_first(&self, method: &str, suffix: &str) {
        self.hold_first_until_another(method, suffix);
        self.shared.0.lock().unwrap().manual = true;
    }

    /// Whether the held request came (waits for it at most [`HOLD_AT_MOST`]).
    pub fn wait_held(&self) -> bool {
        let (lock, changed) = &*self.shared;
        let state = lock.lock().unwrap();
        let (state, _) = changed
            .wait_timeout_while(state, HOLD_AT_MOST, |s| s.held_body.is_none())
            .unwrap();
        state.held_body.is_some()
    }

    /// Lets the held request go on to Lambda.
    pub fn release(&self) {
        let (lock, changed) = &*self.shared;
        lock.lock().unwrap().released = true;
        changed.notify_all();
    }

    /// Everything answered so far, in the order the answers came.
    pub fn log(&self) -> Vec<Exchange> {
        self.shared.0.lock().unwrap().log.clone()
    }
}

/// Reads a request: its head and its whole body (by `Content-Length`).
fn read_request(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = client.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer.split_off(end);
    while body.len() < length {
        let n = client.read(&mut chunk).ok().filter(|&n| n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

fn relay(mut client: TcpStream, upstream: &str, (lock, changed): &(Mutex<State>, Condvar)) {
    let Some((head, body)) = read_request(&mut client) else {
        return;
    };
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let text = String::from_utf8_lossy(&body).into_owned();
    let matches = |state: &State| {
        state
            .hold
            .as_ref()
            .is_some_and(|(m, suffix)| *m == method && path.ends_with(suffix.as_str()))
    };
    let mut held = false;
    {
        let mut state = lock.lock().unwrap();
        if matches(&state) && state.held_body.is_none() {
            state.held_body = Some(text.clone());
            held = true;
            changed.notify_all();
            let deadline = Instant::now() + HOLD_AT_MOST;
            while !state.released {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = changed.wait_timeout(state, left).unwrap().0;
            }
            state.released = true;
        }
    }
    let Some((status, answer)) = forward(upstream, &head, &body) else {
        return;
    };
    {
        let mut state = lock.lock().unwrap();
        // Another run's request of the held kind, answered: the held one may go.
        if !held
            && !state.manual
            && matches(&state)
            && (200..300).contains(&status)
            && state.held_body.as_ref().is_some_and(|b| *b != text)
        {
            state.released = true;
        }
        state.log.push(Exchange {
            method,
            path,
            body: text,
            status,
            held,
        });
        changed.notify_all();
    }
    let _ = client.write_all(&answer);
    let _ = client.shutdown(Shutdown::Both);
}

/// Sends the request upstream with `Connection: close`; its status and the
/// whole answer (which says `Connection: close` too, so the client reconnects).
fn forward(upstream: &str, head: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut server = TcpStream::connect(upstream).ok()?;
    server
        .write_all(super::proxy::without_connection_headers(head).as_bytes())
        .ok()?;
    server.write_all(body).ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).ok()?;
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())?;
    // The client must not send another request on this connection.
    let mut whole = super::proxy::without_connection_headers(&head).into_bytes();
    whole.extend_from_slice(&answer[end..]);
    Some((status, whole))
}

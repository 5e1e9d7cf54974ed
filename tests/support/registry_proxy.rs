//! A recording proxy in front of MiniStack's registry (or any of its HTTP
//! APIs), so a test learns from the server's side which blobs a push sent, or
//! how many calls were in flight at once (jot's own messages are no
//! evidence). Each request gets its own upstream connection with
//! `Connection: close`, so a request is seen whole without parsing bodies.
//! MiniStack answers uploads with relative `Location`s, so nothing needs
//! rewriting: the engine keeps talking to the proxy.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// One request the registry answered.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub status: u16,
}

impl Exchange {
    /// The digest of a blob whose bytes this request sent and the registry
    /// stored: the closing `PUT …/blobs/uploads/ID?digest=` (or a monolithic
    /// `POST …?digest=`) answered 201.
    pub fn sent_blob(&self) -> Option<String> {
        if self.status != 201 || !self.path.contains("/blobs/uploads/") {
            return None;
        }
        let query = self.path.split_once('?')?.1;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("digest="))
            .map(|d| d.replace("%3A", ":").replace("%3a", ":"))
    }

    pub fn is_manifest_put(&self) -> bool {
        self.method == "PUT" && self.path.contains("/manifests/")
    }
}

#[derive(Default)]
struct State {
    log: Vec<Exchange>,
    /// Set by [`RegistryProxy::hold_after_first_blob`].
    hold_after_first_blob: bool,
    /// New requests wait (unanswered) while set.
    holding: bool,
    /// New and held requests are dropped while set.
    refusing: bool,
    /// Requests forwarded and not yet answered in full.
    in_flight: usize,
    /// Requests the upstream has not begun to answer: the calls in flight
    /// as the server sees them (a connection's teardown is not counted).
    awaiting: usize,
    /// The most requests ever awaiting their answer at once.
    peak_awaiting: usize,
}

/// The proxy's address, `127.0.0.1:PORT` (a loopback registry, which the
/// engine talks to over plain HTTP).
pub struct RegistryProxy {
    pub host: String,
    shared: super::proxy::Shared<State>,
}

impl RegistryProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`.
    pub fn start(upstream: &str) -> RegistryProxy {
        let (host, shared) = super::proxy::listen(upstream, relay);
        RegistryProxy { host, shared }
    }

    /// From the first blob the registry stores on, answers no new request
    /// (they wait): whatever was sent so far is all the registry gets.
    pub fn hold_after_first_blob(&self) {
        self.state().hold_after_first_blob = true;
    }

    /// Waits until a blob was stored (or `within` passed); true if one was.
    pub fn wait_for_first_blob(&self, within: Duration) -> bool {
        let (lock, changed) = &*self.shared;
        let deadline = Instant::now() + within;
        let mut state = lock.lock().unwrap();
        while !state.log.iter().any(|e| e.sent_blob().is_some()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = changed.wait_timeout(state, left).unwrap().0;
        }
        true
    }

    /// Drops held requests and refuses new ones until every forwarded
    /// request has its answer (or `within` passed), then forwards again.
    /// Returns what was answered so far and starts a fresh log.
    pub fn settle(&self, within: Duration) -> Vec<Exchange> {
        let (lock, changed) = &*self.shared;
        let deadline = Instant::now() + within;
        let mut state = lock.lock().unwrap();
        state.refusing = true;
        changed.notify_all();
        while state.in_flight > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{} requests through the registry proxy never ended",
                state.in_flight
            );
            state = changed.wait_timeout(state, left).unwrap().0;
        }
        let log = std::mem::take(&mut state.log);
        *state = State::default();
        log
    }

    /// The most requests that were ever in flight at once through the proxy
    /// (sent, and not yet answered by the upstream).
    pub fn peak_in_flight(&self) -> usize {
        self.state().peak_awaiting
    }

    /// Everything answered so far (the log goes on).
    pub fn log(&self) -> Vec<Exchange> {
        self.state().log.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.0.lock().unwrap()
    }
}

/// Reads a request head (up to the blank line); returns it and any body bytes read with it.
fn read_head(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buffer).into_owned(), rest));
        }
        let n = client.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// Serves one client connection: one request, forwarded, its answer recorded.
fn relay(mut client: TcpStream, upstream: &str, shared: &(Mutex<State>, Condvar)) {
    let Some((head, early_body)) = read_head(&mut client) else {
        return;
    };
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let (lock, changed) = shared;
    {
        let mut state = lock.lock().unwrap();
        while state.holding && !state.refusing {
            state = changed.wait(state).unwrap();
        }
        if state.refusing {
            return;
        }
        state.in_flight += 1;
        state.awaiting += 1;
        state.peak_awaiting = state.peak_awaiting.max(state.awaiting);
    }
    let status = forward(&mut client, upstream, &head, &early_body, shared);
    let mut state = lock.lock().unwrap();
    state.in_flight -= 1;
    if status.is_none() {
        state.awaiting -= 1;
    }
    if let Some(status) = status {
        state.log.push(Exchange {
            method,
            path,
            status,
        });
    }
    changed.notify_all();
}

/// Sends the request upstream with `Connection: close` and copies the answer
/// back; returns its status. A stored blob turns holding on (when asked)
/// before the client sees the answer, so it can send nothing more.
fn forward(
    client: &mut TcpStream,
    upstream: &str,
    head: &str,
    early_body: &[u8],
    (lock, _): &(Mutex<State>, Condvar),
) -> Option<u16> {
    let mut server = TcpStream::connect(upstream).ok()?;
    server
        .write_all(super::proxy::without_connection_headers(head).as_bytes())
        .ok()?;
    server.write_all(early_body).ok()?;
    let (mut body_in, mut body_out) = (client.try_clone().ok()?, server.try_clone().ok()?);
    std::thread::spawn(move || {
        // A client that gives up mid-body (a cancelled push) ends the upload.
        let _ = std::io::copy(&mut body_in, &mut body_out);
        let _ = body_out.shutdown(Shutdown::Write);
    });
    let mut answer = Vec::new();
    let mut chunk = [0u8; 65536];
    let mut status = None;
    loop {
        let n = match server.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if status.is_none() {
            answer.extend_from_slice(&chunk[..n]);
            let Some(end) = answer.windows(2).position(|w| w == b"\r\n") else {
                continue;
            };
            let line = String::from_utf8_lossy(&answer[..end]).into_owned();
            let code: u16 = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            status = Some(code);
            lock.lock().unwrap().awaiting -= 1;
            let stored = Exchange {
                method: String::new(),
                path: head.split_whitespace().nth(1).unwrap_or_default().into(),
                status: code,
            }
            .sent_blob()
            .is_some();
            if stored {
                let mut state = lock.lock().unwrap();
                if state.hold_after_first_blob {
                    state.holding = true;
                }
            }
            if client.write_all(&answer).is_err() {
                break;
            }
            continue;
        }
        if client.write_all(&chunk[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
    status
}

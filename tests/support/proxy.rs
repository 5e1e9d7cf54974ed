//! What the recording proxies in front of MiniStack share: a loopback
//! listener with a thread per client, and request heads rewritten to close.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};

/// A proxy's shared state and the signal that it changed.
pub type Shared<S> = Arc<(Mutex<S>, Condvar)>;

/// Listens on an ephemeral loopback port; each client is served by
/// `relay(client, upstream, shared)` on a thread of its own. Returns
/// `127.0.0.1:PORT` and the shared state.
pub fn listen<S: Default + Send + 'static>(
    upstream: &str,
    relay: fn(TcpStream, &str, &(Mutex<S>, Condvar)),
) -> (String, Shared<S>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a proxy on loopback");
    let host = listener.local_addr().unwrap().to_string();
    let shared: Shared<S> = Arc::default();
    let upstream = upstream.to_string();
    let accepting = shared.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let shared = accepting.clone();
            let upstream = upstream.clone();
            std::thread::spawn(move || relay(client, &upstream, &shared));
        }
    });
    (host, shared)
}

/// A message head with its connection headers replaced by `Connection: close`.
pub fn without_connection_headers(head: &str) -> String {
    let mut rewritten: String = head
        .trim_end()
        .lines()
        .filter(|line| {
            let name = line.split(':').next().unwrap_or_default().trim();
            !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive")
        })
        .map(|line| format!("{line}\r\n"))
        .collect();
    rewritten.push_str("Connection: close\r\n\r\n");
    rewritten
}

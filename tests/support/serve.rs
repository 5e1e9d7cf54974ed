//! Helpers for the jot-serve tests: a running server (stopped by signal when
//! dropped), a small keep-alive HTTP/1.1 client, the sandboxes it owns, and
//! the loopback ports it listens on (to play an attacker who found them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::jot;

pub struct Serve {
    pub child: Child,
    pub endpoint: String,
    pub addr: String,
}

impl Serve {
    /// Starts jot-serve on a free port with `descriptors` on stdin; waits for its endpoint.
    pub fn start(descriptors: &str, args: &[&str]) -> Serve {
        Serve::start_with_env(descriptors, args, &[])
    }

    /// As [`Serve::start`], with extra environment variables for jot-serve.
    pub fn start_with_env(descriptors: &str, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = jot("jot-serve")
            .args(["--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start jot-serve");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(descriptors.as_bytes()).unwrap();
        drop(stdin);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("jot-serve endpoint");
        assert!(line.starts_with("http://"), "jot-serve printed {line:?}");
        let endpoint = line.trim().to_string();
        let addr = endpoint.trim_start_matches("http://").to_string();
        Serve {
            child,
            endpoint,
            addr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// host:port of the endpoint.
    pub fn host(&self) -> &str {
        &self.addr
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.addr)
    }

    /// Sends `signal` (e.g. "TERM") and returns the exit code.
    pub fn stop(&mut self, signal: &str) -> i32 {
        signal_process(self.pid(), signal);
        self.child
            .wait()
            .expect("wait jot-serve")
            .code()
            .unwrap_or(-1)
    }

    /// Containers (running or not) labelled as this server's.
    pub fn containers(&self) -> Vec<String> {
        containers_of(self.pid())
    }

    /// The server's status document.
    pub fn status(&self) -> serde_json::Value {
        let (code, _, body) = self.client().request("GET", "/_jot/status", &[], b"");
        assert_eq!(code, 200);
        serde_json::from_slice(&body).expect("status JSON")
    }

    /// Sandboxes working on an invocation now, over every function and version.
    pub fn busy(&self) -> u64 {
        busy_at(&self.addr)
    }

    /// Waits (a minute at most) until `count` sandboxes are busy.
    pub fn wait_busy(&self, count: u64) {
        assert!(
            eventually(Duration::from_secs(60), || self.busy() >= count),
            "{count} sandboxes never became busy: {}",
            self.status()
        );
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal_process(self.pid(), "TERM");
            let _ = self.child.wait();
        }
    }
}

/// Sandboxes working on an invocation now at the server at `addr` (for a
/// thread that samples it while the test holds the [`Serve`]).
pub fn busy_at(addr: &str) -> u64 {
    let (code, _, body) = Client::connect(addr).request("GET", "/_jot/status", &[], b"");
    assert_eq!(code, 200);
    let status: serde_json::Value = serde_json::from_slice(&body).expect("status JSON");
    let versions = status["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["versions"].as_array().into_iter().flatten());
    versions
        .map(|v| v["instances"]["busy"].as_u64().unwrap_or(0))
        .sum()
}

pub fn signal_process(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status();
}

/// Containers whose owner label names process `pid`.
pub fn containers_of(pid: u32) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=dev.jot.serve.owner",
            "--format",
            "{{.ID}} {{.Label \"dev.jot.serve.owner\"}}",
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains(&format!("/{pid}/")))
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

/// Waits until `check` holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// A keep-alive HTTP/1.1 connection.
pub struct Client {
    stream: BufReader<TcpStream>,
    host: String,
}

/// (status, headers lower-cased, body)
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

impl Client {
    pub fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to jot-serve");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        Client {
            stream: BufReader::new(stream),
            host: addr.to_string(),
        }
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        for (name, value) in headers {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);
        self.stream.get_mut().write_all(&request).expect("send");
    }

    /// Reads one response (Content-Length framed, as jot-serve answers).
    pub fn receive(&mut self) -> std::io::Result<Answer> {
        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, headers, body))
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        self.send(method, path, headers, body);
        self.receive().expect("an answer from jot-serve")
    }

    pub fn invoke(&mut self, function: &str, payload: &str) -> Answer {
        self.request(
            "POST",
            &format!("/2015-03-31/functions/{function}/invocations"),
            &[],
            payload.as_bytes(),
        )
    }
}

pub fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .1
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Loopback TCP ports process `pid` listens on (from /proc: its socket inodes).
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .filter_map(|link| {
                    let link = link.to_string_lossy().into_owned();
                    link.strip_prefix("socket:[")
                        .and_then(|r| r.strip_suffix(']'))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let listening = fields.get(3) == Some(&"0A");
            let inode = fields.get(9)?;
            if !listening || !inodes.iter().any(|i| i == inode) {
                return None;
            }
            let port = fields.get(1)?.rsplit(':').next()?;
            u16::from_str_radix(port, 16).ok()
        })
        .collect()
}

/// Reads what a raw connection gets within `limit` (None: nothing yet).
pub fn raw_exchange(addr: &str, request: &str, limit: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(limit)).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut buffer = vec![0; 65536];
    let n = stream.read(&mut buffer).ok()?;
    Some(String::from_utf8_lossy(&buffer[..n]).into_owned())
}

//! Helpers for the jot-serve tests: a running server (stopped by signal when
//! dropped), a small keep-alive HTTP/1.1 client, the sandboxes it owns, and
//! the loopback ports it listens on (to play an attacker who found them).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::jot;
pub use jot_run::auth::Credentials;

pub struct Serve {
    pub child: Child,
    pub endpoint: String,
    pub addr: String,
    /// The user's credentials jot-serve wrote (its `--credentials-file`).
    pub credentials: Credentials,
    /// Holds the credentials file's directory.
    _state: tempfile::TempDir,
}

impl Serve {
    /// Starts jot-serve on a free port with `descriptors` on stdin; waits for its endpoint.
    pub fn start(descriptors: &str, args: &[&str]) -> Serve {
        Serve::start_with_env(descriptors, args, &[])
    }

    /// As [`Serve::start`], with extra environment variables for jot-serve.
    pub fn start_with_env(descriptors: &str, args: &[&str], env: &[(&str, &str)]) -> Serve {
        Serve::start_with(descriptors, args, env, Stdio::inherit())
    }

    /// As [`Serve::start_with_env`], with jot-serve's stderr going to `stderr`.
    pub fn start_with(
        descriptors: &str,
        args: &[&str],
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Serve {
        let state = tempfile::tempdir().expect("a directory for the credentials");
        let credentials_file = state.path().join("credentials");
        let mut child = jot("jot-serve")
            .args(["--port", "0"])
            .arg("--credentials-file")
            .arg(&credentials_file)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
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
        let credentials = read_credentials(&credentials_file);
        Serve {
            child,
            endpoint,
            addr,
            credentials,
            _state: state,
        }
    }

    /// The credentials file jot-serve wrote (removed when it ends).
    pub fn credentials_file(&self) -> std::path::PathBuf {
        self._state.path().join("credentials")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// host:port of the endpoint.
    pub fn host(&self) -> &str {
        &self.addr
    }

    /// A client signing every request with the user's credentials.
    pub fn client(&self) -> Client {
        Client::connect(&self.addr).signing(self.credentials.clone())
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

    /// Resident memory of jot-serve now, in KB.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("jot-serve's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
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

/// The access key and secret in an AWS shared-credentials file.
pub fn read_credentials(path: &std::path::Path) -> Credentials {
    let text = std::fs::read_to_string(path).expect("jot-serve's credentials file");
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            .unwrap_or_else(|| panic!("{key} in {text}"))
    };
    Credentials {
        access_key_id: value("aws_access_key_id"),
        secret_access_key: jot_run::auth::Secret::new(value("aws_secret_access_key")),
    }
}

/// A keep-alive HTTP/1.1 connection, signing its requests (SigV4) when given credentials.
pub struct Client {
    stream: BufReader<TcpStream>,
    host: String,
    credentials: Option<Credentials>,
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
            credentials: None,
        }
    }

    /// This client, signing with `credentials` from now on.
    pub fn signing(mut self, credentials: Credentials) -> Client {
        self.credentials = Some(credentials);
        self
    }

    /// This client, signing nothing from now on.
    pub fn unsigned(mut self) -> Client {
        self.credentials = None;
        self
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let length = body.len().to_string();
        let mut sent: Vec<(&str, &str)> = vec![("Host", &self.host), ("Content-Length", &length)];
        sent.extend_from_slice(headers);
        let signature = self.credentials.as_ref().map(|credentials| {
            jot_run::auth::sign(
                credentials,
                "us-east-1",
                method,
                path,
                &sent,
                body,
                std::time::SystemTime::now(),
            )
        });
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        if let Some((authorization, date)) = &signature {
            request.extend_from_slice(
                format!("Authorization: {authorization}\r\nX-Amz-Date: {date}\r\n").as_bytes(),
            );
        }
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

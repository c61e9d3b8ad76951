//! End-to-end tests of the real `linkerd2-proxy` binary: it is started as a
//! child process on loopback ports, with upstream servers run by the test, and
//! checked the way a user would: bytes through it, probes and metrics of it.
//! Every wait is bounded so a broken proxy fails the test instead of hanging.
//! TLS tests make their own throwaway CA with the openssl command-line tool.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_linkerd2-proxy");
const WAIT: Duration = Duration::from_secs(15);
const VARS: [&str; 9] = [
    "LINKERD2_PROXY_INBOUND_LISTEN_ADDR",
    "LINKERD2_PROXY_INBOUND_FORWARD_ADDR",
    "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR",
    "LINKERD2_PROXY_OUTBOUND_FORWARD_ADDR",
    "LINKERD2_PROXY_ADMIN_LISTEN_ADDR",
    "LINKERD2_PROXY_INBOUND_TLS_CERT",
    "LINKERD2_PROXY_INBOUND_TLS_KEY",
    "LINKERD2_PROXY_OUTBOUND_TLS_CA",
    "LINKERD2_PROXY_OUTBOUND_TLS_NAME",
];

/// A loopback address whose port was free a moment ago: bound to port 0,
/// read, and released for the proxy to bind.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address")
}

/// The proxy under test; killed when dropped so a failed assertion leaves no
/// process behind.
struct Proxy {
    child: Child,
    stderr_lines: Receiver<String>,
}

impl Proxy {
    fn command(env: &[(&str, String)]) -> Command {
        let mut command = Command::new(BIN);
        for var in VARS {
            command.env_remove(var);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }

    /// Starts the proxy and waits for its "admin listening on" log line,
    /// printed once every listener is bound.
    fn start(env: &[(&str, String)]) -> Proxy {
        let mut child = Proxy::command(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start linkerd2-proxy");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        // Keeps draining stderr for the proxy's whole life so it never blocks
        // on a full pipe; ends when the proxy exits.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                match line {
                    Ok(line) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        let proxy = Proxy { child, stderr_lines: rx };
        proxy.wait_for_log("admin listening on");
        proxy
    }

    fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => seen.push(line),
                Err(e) => panic!("no log line containing {:?} ({:?}); stderr so far: {:#?}", needle, e, seen),
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An upstream server that answers each connection with `transform` of
/// everything the client sent before half-closing. It serves exactly
/// `connections` connections, or stops at the deadline.
fn upstream(connections: usize, transform: fn(&[u8]) -> Vec<u8>) -> (SocketAddr, JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + WAIT;
        let mut workers = Vec::new();
        while workers.len() < connections && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => workers.push(thread::spawn(move || answer(stream, transform))),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("upstream accept: {}", e),
            }
        }
        let served = workers.len();
        for worker in workers {
            worker.join().expect("upstream worker");
        }
        served
    });
    (addr, handle)
}

fn answer(mut stream: TcpStream, transform: fn(&[u8]) -> Vec<u8>) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let mut request = Vec::new();
    stream.read_to_end(&mut request).expect("upstream reads the request to its end");
    stream.write_all(&transform(&request)).expect("upstream writes the answer");
}

fn shout(request: &[u8]) -> Vec<u8> {
    let mut answer = b"IN<".to_vec();
    answer.extend(request.iter().map(u8::to_ascii_uppercase));
    answer.push(b'>');
    answer
}

fn mirror(request: &[u8]) -> Vec<u8> {
    let mut answer: Vec<u8> = request.iter().rev().cloned().collect();
    answer.extend_from_slice(b"|out\n");
    answer
}

/// `len` lowercase letters, so the upstream's transforms visibly change them.
fn payload(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + ((i * 7 + seed) % 26) as u8).collect()
}

/// Sends `request` through `addr`, half-closes, and returns all the bytes
/// that come back.
fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT)?;
    stream.set_read_timeout(Some(WAIT))?;
    stream.set_write_timeout(Some(WAIT))?;
    stream.write_all(request)?;
    stream.shutdown(Shutdown::Write)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer)
}

/// A bounded HTTP/1.1 GET; returns the status code and body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect to admin");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    write!(stream, "GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", path, addr).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read admin response");
    let (head, body) = response.split_once("\r\n\r\n").expect("response has a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status code in {:?}", head));
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|n| n.parse().ok())
        .expect("Content-Length header");
    assert_eq!(body.len(), length, "body length matches Content-Length");
    (status, body.to_string())
}

/// The value of `name{direction="<direction>"}` in a metrics exposition.
fn sample(metrics: &str, name: &str, direction: &str) -> u64 {
    let prefix = format!("{}{{direction=\"{}\"}} ", name, direction);
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no sample {}{{direction={:?}}} in:\n{}", name, direction, metrics))
        .parse()
        .expect("sample value is an integer")
}

/// Polls /metrics until `done` holds: connection-closed counters are bumped
/// just after the client sees its end of stream, so they lag a little.
fn metrics_when(admin: SocketAddr, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = http_get(admin, "/metrics");
        assert_eq!(status, 200);
        if done(&body) {
            return body;
        }
        if Instant::now() > deadline {
            panic!("metrics never reached the expected state:\n{}", body);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) for a process expected to exit on its own.
fn wait_for_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("poll child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("linkerd2-proxy did not exit within {:?}", WAIT);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs the proxy expecting it to exit by itself; returns status and stderr.
fn run_to_exit(command: &mut Command) -> (ExitStatus, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start linkerd2-proxy");
    let status = wait_for_exit(&mut child);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn forwards_both_ways_and_counts_connections_and_bytes_per_direction() {
    let inbound_sizes = [0usize, 17, 70_000, 300_000];
    let outbound_size = 5_000usize;
    let (inbound_upstream, inbound_served) = upstream(inbound_sizes.len(), shout);
    let (outbound_upstream, outbound_served) = upstream(1, mirror);
    let (inbound, outbound, admin) = (free_addr(), free_addr(), free_addr());
    let proxy = Proxy::start(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", inbound.to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", inbound_upstream.to_string()),
        ("LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", outbound.to_string()),
        ("LINKERD2_PROXY_OUTBOUND_FORWARD_ADDR", outbound_upstream.to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", admin.to_string()),
    ]);

    assert_eq!(http_get(admin, "/ready"), (200, "ready\n".to_string()));
    assert_eq!(http_get(admin, "/nope").0, 404);

    // Inbound connections run concurrently, each with its own payload.
    let clients: Vec<_> = inbound_sizes
        .iter()
        .enumerate()
        .map(|(seed, &size)| {
            thread::spawn(move || {
                let request = payload(size, seed);
                let answer = exchange(inbound, &request).expect("inbound exchange");
                assert!(answer == shout(&request), "inbound answer of a {}-byte request differs", size);
                answer.len()
            })
        })
        .collect();
    let inbound_written: usize = clients.into_iter().map(|c| c.join().expect("inbound client")).sum();

    let request = payload(outbound_size, 3);
    let answer = exchange(outbound, &request).expect("outbound exchange");
    assert!(answer == mirror(&request), "outbound answer differs");

    assert_eq!(inbound_served.join().unwrap(), inbound_sizes.len());
    assert_eq!(outbound_served.join().unwrap(), 1);

    let metrics = metrics_when(admin, |m| {
        sample(m, "tcp_close_total", "inbound") == inbound_sizes.len() as u64
            && sample(m, "tcp_close_total", "outbound") == 1
    });
    let inbound_read: usize = inbound_sizes.iter().sum();
    assert_eq!(sample(&metrics, "tcp_open_total", "inbound"), inbound_sizes.len() as u64);
    assert_eq!(sample(&metrics, "tcp_read_bytes_total", "inbound"), inbound_read as u64);
    assert_eq!(sample(&metrics, "tcp_write_bytes_total", "inbound"), inbound_written as u64);
    assert_eq!(sample(&metrics, "tcp_open_total", "outbound"), 1);
    assert_eq!(sample(&metrics, "tcp_read_bytes_total", "outbound"), outbound_size as u64);
    assert_eq!(sample(&metrics, "tcp_write_bytes_total", "outbound"), answer.len() as u64);
    assert_eq!(sample(&metrics, "tcp_connect_error_total", "inbound"), 0);
    for family in ["tcp_open_total", "tcp_close_total", "tcp_read_bytes_total", "tcp_write_bytes_total"] {
        assert!(metrics.contains(&format!("\n# TYPE {} counter\n", family)), "TYPE line of {}", family);
        assert!(metrics.contains(&format!("# HELP {} ", family)), "HELP line of {}", family);
    }
    drop(proxy);
}

#[test]
fn closes_the_client_when_the_upstream_refuses() {
    // Bound and released: nothing listens there, so connecting is refused.
    let (inbound, unreachable, admin) = (free_addr(), free_addr(), free_addr());
    let _proxy = Proxy::start(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", inbound.to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", unreachable.to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", admin.to_string()),
    ]);

    // The proxy closes the client: an empty answer or a reset, never a hang.
    if let Ok(answer) = exchange(inbound, b"hello") {
        assert!(answer.is_empty(), "no bytes come from an unreachable upstream");
    }
    let metrics = metrics_when(admin, |m| sample(m, "tcp_close_total", "inbound") == 1);
    assert_eq!(sample(&metrics, "tcp_connect_error_total", "inbound"), 1);
    assert_eq!(sample(&metrics, "tcp_write_bytes_total", "inbound"), 0);
    // Without an outbound listener its series are still there, at zero.
    assert_eq!(sample(&metrics, "tcp_open_total", "outbound"), 0);
}

#[test]
fn a_missing_variable_is_a_usage_error_that_names_it() {
    let (status, stderr) = run_to_exit(&mut Proxy::command(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", free_addr().to_string()),
    ]));
    assert_eq!(status.code(), Some(2), "stderr: {}", stderr);
    assert!(stderr.contains("LINKERD2_PROXY_INBOUND_FORWARD_ADDR: is not set"), "stderr: {}", stderr);
    assert!(stderr.contains("hint: set LINKERD2_PROXY_INBOUND_FORWARD_ADDR"), "stderr: {}", stderr);
}

#[test]
fn a_malformed_address_is_a_usage_error_that_names_it() {
    let (status, stderr) = run_to_exit(&mut Proxy::command(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", "localhost".to_string()),
    ]));
    assert_eq!(status.code(), Some(2), "stderr: {}", stderr);
    assert!(stderr.contains("LINKERD2_PROXY_ADMIN_LISTEN_ADDR: \"localhost\" is not an IP:PORT"), "stderr: {}", stderr);
}

#[test]
fn an_unknown_argument_is_a_usage_error() {
    let (status, stderr) = run_to_exit(Command::new(BIN).arg("--bogus"));
    assert_eq!(status.code(), Some(2), "stderr: {}", stderr);
    assert!(stderr.contains("--bogus") && stderr.contains("Usage:"), "stderr: {}", stderr);
}

#[test]
fn a_port_in_use_fails_with_the_variable_that_chose_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let (status, stderr) = run_to_exit(&mut Proxy::command(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", taken.local_addr().unwrap().to_string()),
    ]));
    assert_eq!(status.code(), Some(1), "stderr: {}", stderr);
    assert!(stderr.contains("(from LINKERD2_PROXY_ADMIN_LISTEN_ADDR)"), "stderr: {}", stderr);
    assert!(!stderr.contains("listening on"), "nothing is announced before every bind succeeds: {}", stderr);
}

#[test]
fn version_names_the_target_platform() {
    let output = Command::new(BIN).arg("--version").output().expect("run --version");
    assert!(output.status.success());
    let line = String::from_utf8(output.stdout).unwrap();
    let arch = if cfg!(target_arch = "x86_64") {
        "amd64"
    } else if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        std::env::consts::ARCH
    };
    assert_eq!(line, format!("linkerd2-proxy {} linux/{}\n", env!("CARGO_PKG_VERSION"), arch));
}

/// An upstream that must not be connected to: a listener nobody accepts on.
/// `assert_untouched` checks its backlog is empty.
fn idle_upstream() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
    listener.set_nonblocking(true).unwrap();
    listener
}

fn assert_untouched(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("the upstream got a connection from {}", peer),
        Err(e) => panic!("upstream accept: {}", e),
    }
}

/// A throwaway PKI in a temporary folder (removed on drop): a CA and a
/// server certificate it issued for `name`, made with the openssl CLI.
struct Pki {
    dir: std::path::PathBuf,
}

impl Pki {
    fn new(tag: &str, name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("linkerd2-proxy-test-{}-{}", std::process::id(), tag));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the PKI folder");
        let pki = Pki { dir };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        pki.openssl(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=linkerd2-proxy test CA"]].concat());
        pki.openssl(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", &format!("/CN={}", name)]].concat());
        std::fs::write(pki.path("ext.cnf"), format!("subjectAltName=DNS:{}\nbasicConstraints=CA:FALSE\n", name)).unwrap();
        pki.openssl(&[
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf",
        ]);
        pki
    }

    fn openssl(&self, args: &[&str]) {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("run openssl (apt-get install openssl)");
        assert!(output.status.success(), "openssl {:?}: {}", args, String::from_utf8_lossy(&output.stderr));
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }

    fn text(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).expect("read a PKI file")
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An inbound proxy terminating TLS with `pki`'s server certificate (given
/// as file paths) in front of `upstream`; returns it with its inbound and
/// admin addresses.
fn tls_inbound(pki: &Pki, upstream: SocketAddr) -> (Proxy, SocketAddr, SocketAddr) {
    let (inbound, admin) = (free_addr(), free_addr());
    let proxy = Proxy::start(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", inbound.to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", upstream.to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", admin.to_string()),
        ("LINKERD2_PROXY_INBOUND_TLS_CERT", pki.path("server.crt")),
        ("LINKERD2_PROXY_INBOUND_TLS_KEY", pki.path("server.key")),
    ]);
    (proxy, inbound, admin)
}

/// An outbound proxy originating TLS to `forward`, trusting `ca_pem` (given
/// as PEM text) for `name`; returns it with its outbound and admin addresses.
fn tls_outbound(ca_pem: String, name: &str, forward: SocketAddr) -> (Proxy, SocketAddr, SocketAddr) {
    let (outbound, admin) = (free_addr(), free_addr());
    let proxy = Proxy::start(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", outbound.to_string()),
        ("LINKERD2_PROXY_OUTBOUND_FORWARD_ADDR", forward.to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", admin.to_string()),
        ("LINKERD2_PROXY_OUTBOUND_TLS_CA", ca_pem),
        ("LINKERD2_PROXY_OUTBOUND_TLS_NAME", name.to_string()),
    ]);
    (proxy, outbound, admin)
}

#[test]
fn carries_traffic_over_tls_from_an_outbound_proxy_to_an_inbound_proxy() {
    let pki = Pki::new("tls", "web.test");
    let sizes = [0usize, 9, 100_000];
    let (app, served) = upstream(sizes.len(), shout);
    let (_inbound_proxy, inbound, inbound_admin) = tls_inbound(&pki, app);
    let (_outbound_proxy, outbound, outbound_admin) = tls_outbound(pki.text("ca.crt"), "web.test", inbound);

    let mut read = 0;
    let mut written = 0;
    for (seed, &size) in sizes.iter().enumerate() {
        let request = payload(size, seed);
        let answer = exchange(outbound, &request).expect("exchange through both proxies");
        assert!(answer == shout(&request), "the answer to a {}-byte request came back changed", size);
        read += request.len();
        written += answer.len();
    }
    assert_eq!(served.join().unwrap(), sizes.len());

    // Both sides count the plaintext they carried, and no TLS failure.
    let n = sizes.len() as u64;
    let outbound_metrics = metrics_when(outbound_admin, |m| sample(m, "tcp_close_total", "outbound") == n);
    let inbound_metrics = metrics_when(inbound_admin, |m| sample(m, "tcp_close_total", "inbound") == n);
    assert_eq!(sample(&outbound_metrics, "tcp_read_bytes_total", "outbound"), read as u64);
    assert_eq!(sample(&outbound_metrics, "tcp_write_bytes_total", "outbound"), written as u64);
    assert_eq!(sample(&inbound_metrics, "tcp_read_bytes_total", "inbound"), read as u64);
    assert_eq!(sample(&inbound_metrics, "tcp_write_bytes_total", "inbound"), written as u64);
    assert_eq!(sample(&outbound_metrics, "tls_handshake_error_total", "outbound"), 0);
    assert_eq!(sample(&inbound_metrics, "tls_handshake_error_total", "inbound"), 0);
}

#[test]
fn an_inbound_tls_listener_forwards_nothing_from_a_plaintext_client() {
    let pki = Pki::new("plain", "web.test");
    let app = idle_upstream();
    let (_proxy, inbound, admin) = tls_inbound(&pki, app.local_addr().unwrap());
    if let Ok(answer) = exchange(inbound, b"GET / HTTP/1.0\r\n\r\n") {
        assert!(!answer.windows(3).any(|w| w == b"IN<"), "plaintext must not reach the upstream");
    }
    let metrics = metrics_when(admin, |m| sample(m, "tcp_close_total", "inbound") == 1);
    assert_eq!(sample(&metrics, "tls_handshake_error_total", "inbound"), 1);
    assert_eq!(sample(&metrics, "tcp_read_bytes_total", "inbound"), 0);
    assert_untouched(&app);
}

#[test]
fn an_outbound_proxy_refuses_an_upstream_certificate_from_another_ca() {
    let trusted = Pki::new("trusted", "web.test");
    let other = Pki::new("other", "web.test");
    let app = idle_upstream();
    let (_inbound_proxy, inbound, _) = tls_inbound(&other, app.local_addr().unwrap());
    let (_outbound_proxy, outbound, admin) = tls_outbound(trusted.text("ca.crt"), "web.test", inbound);
    if let Ok(answer) = exchange(outbound, b"secret") {
        assert!(answer.is_empty(), "nothing comes back from an untrusted upstream");
    }
    let metrics = metrics_when(admin, |m| sample(m, "tcp_close_total", "outbound") == 1);
    assert_eq!(sample(&metrics, "tls_handshake_error_total", "outbound"), 1);
    assert_eq!(sample(&metrics, "tcp_read_bytes_total", "outbound"), 0);
    assert_untouched(&app);
}

#[test]
fn an_unusable_tls_key_is_a_usage_error_that_names_it() {
    let pki = Pki::new("badkey", "web.test");
    let (status, stderr) = run_to_exit(&mut Proxy::command(&[
        ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_INBOUND_FORWARD_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", free_addr().to_string()),
        ("LINKERD2_PROXY_INBOUND_TLS_CERT", pki.path("server.crt")),
        // The CA's key does not belong to the server certificate.
        ("LINKERD2_PROXY_INBOUND_TLS_KEY", pki.path("ca.key")),
    ]));
    assert_eq!(status.code(), Some(2), "stderr: {}", stderr);
    assert!(stderr.contains("LINKERD2_PROXY_INBOUND_TLS_KEY: does not fit"), "stderr: {}", stderr);
    assert!(!stderr.contains("listening on"), "nothing listens with bad TLS material: {}", stderr);
}

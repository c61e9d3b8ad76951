//! The admin server: a minimal HTTP/1.1 responder for probes and scrapes.
//!
//! Routes: `GET /ready` and `GET /live` (200 with a one-line body) and
//! `GET /metrics` (Prometheus text). A known path with another method is 405,
//! anything else 404, an unparsable request 400. One request per connection
//! (`Connection: close`), which is all probes and Prometheus need.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::log;
use crate::metrics::Metrics;

/// A slow or silent client must not hold an admin thread forever.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Probe and scrape requests are tiny; anything bigger is not for us.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// Pause after a failed `accept` so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Extra header (name, value), used for `Allow` on 405.
    pub allow: Option<&'static str>,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
            allow: None,
        }
    }

    /// The response as bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        if let Some(allow) = self.allow {
            head.push_str(&format!("Allow: {}\r\n", allow));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Unknown",
    }
}

/// Chooses the response for a request line's method and target. Pure, so
/// routing is unit-tested without sockets.
pub fn route(method: &str, target: &str, metrics: &Metrics) -> Response {
    // Probes sometimes add a query string; it does not change the answer.
    let path = target.split('?').next().unwrap_or("");
    let known = matches!(path, "/ready" | "/live" | "/metrics");
    if !known {
        return Response::text(404, "not found\n");
    }
    if method != "GET" {
        let mut response = Response::text(405, "method not allowed\n");
        response.allow = Some("GET");
        return response;
    }
    match path {
        "/ready" => Response::text(200, "ready\n"),
        "/live" => Response::text(200, "live\n"),
        _ => Response {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: metrics.render(),
            allow: None,
        },
    }
}

/// Splits an HTTP/1.x request line into method and target.
pub fn parse_request_line(line: &str) -> Option<(&str, &str)> {
    let mut parts = line.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    if parts.next().is_some() || method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return None;
    }
    Some((method, target))
}

/// Accepts admin connections forever, one short-lived thread each.
pub fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                let metrics = Arc::clone(&metrics);
                let spawned = thread::Builder::new().name("admin-conn".to_string()).spawn(move || {
                    if let Err(e) = handle(stream, &metrics) {
                        log::warn(&format!("admin request from {}: {}", peer, e));
                    }
                });
                if let Err(e) = spawned {
                    log::warn(&format!("admin connection from {} dropped: cannot start a thread: {}", peer, e));
                }
            }
            Err(e) => {
                log::warn(&format!("admin accept failed: {}", e));
                thread::sleep(ACCEPT_BACKOFF);
            }
        }
    }
}

fn handle(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let response = match read_request_head(&mut stream)? {
        Some(head) => {
            let first_line = head.split("\r\n").next().unwrap_or("");
            match parse_request_line(first_line) {
                Some((method, target)) => route(method, target, metrics),
                None => Response::text(400, "bad request\n"),
            }
        }
        None => Response::text(400, "bad request\n"),
    };
    stream.write_all(&response.to_bytes())?;
    stream.flush()
}

/// Reads up to the blank line that ends the request head. `None` when the
/// client closes first, sends more than `MAX_REQUEST_HEAD`, or sends bytes
/// that are not UTF-8.
fn read_request_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = find(&head, b"\r\n\r\n") {
            head.truncate(end);
            return Ok(String::from_utf8(head).ok());
        }
        if head.len() > MAX_REQUEST_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Direction;

    #[test]
    fn answers_ready_and_live_probes() {
        let metrics = Metrics::default();
        assert_eq!(route("GET", "/ready", &metrics).body, "ready\n");
        assert_eq!(route("GET", "/ready", &metrics).status, 200);
        assert_eq!(route("GET", "/live?verbose=1", &metrics).body, "live\n");
    }

    #[test]
    fn serves_the_current_metrics() {
        let metrics = Metrics::default();
        metrics.counters(Direction::Inbound).bytes_read(42);
        let response = route("GET", "/metrics", &metrics);
        assert_eq!(response.status, 200);
        assert!(response.content_type.starts_with("text/plain; version=0.0.4"));
        assert!(response.body.contains("tcp_read_bytes_total{direction=\"inbound\"} 42\n"));
    }

    #[test]
    fn rejects_unknown_paths_and_methods() {
        let metrics = Metrics::default();
        assert_eq!(route("GET", "/", &metrics).status, 404);
        assert_eq!(route("GET", "/readyz", &metrics).status, 404);
        let post = route("POST", "/ready", &metrics);
        assert_eq!(post.status, 405);
        assert_eq!(post.allow, Some("GET"));
    }

    #[test]
    fn parses_only_well_formed_request_lines() {
        assert_eq!(parse_request_line("GET /ready HTTP/1.1"), Some(("GET", "/ready")));
        assert_eq!(parse_request_line("GET /ready HTTP/1.0"), Some(("GET", "/ready")));
        assert_eq!(parse_request_line("GET /ready"), None);
        assert_eq!(parse_request_line("GET ready HTTP/1.1"), None);
        assert_eq!(parse_request_line("GET /ready HTTP/2"), None);
        assert_eq!(parse_request_line("GET /a b HTTP/1.1"), None);
    }

    #[test]
    fn writes_a_complete_http_response() {
        let bytes = Response::text(404, "not found\n").to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{}", text);
        assert!(text.contains("\r\nContent-Length: 10\r\n"), "{}", text);
        assert!(text.contains("\r\nConnection: close\r\n"), "{}", text);
        assert!(text.ends_with("\r\n\r\nnot found\n"), "{}", text);
    }
}

//! The admin server: HTTP/1.1 on hyper, for probes and scrapes.
//!
//! Routes: `GET /ready` and `GET /live` (200 with a one-line body) and
//! `GET /metrics` (Prometheus text). A known path with another method is 405,
//! anything else 404; hyper answers an unparsable request with 400. One
//! request per connection (`Connection: close`), which is all probes and
//! Prometheus need, and header names in their usual capitalisation
//! (`Content-Length`), which simple probe clients match literally.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::log;
use crate::metrics::Metrics;

/// A slow or silent client must not hold an admin task forever.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

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

/// The hyper response for a routed answer.
pub fn to_http(response: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder()
        .status(response.status)
        .header(hyper::header::CONTENT_TYPE, response.content_type);
    if let Some(allow) = response.allow {
        builder = builder.header(hyper::header::ALLOW, allow);
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        // Status and header values above are constants of this module.
        .expect("valid response parts")
}

/// Accepts admin connections forever, one short-lived task each.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let metrics = Arc::clone(&metrics);
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<Incoming>| {
                        let answer = route(request.method().as_str(), request.uri().path(), &metrics);
                        async move { Ok::<_, Infallible>(to_http(answer)) }
                    });
                    let connection = http1::Builder::new()
                        .keep_alive(false)
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service);
                    match tokio::time::timeout(IO_TIMEOUT, connection).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => log::warn(&format!("admin request from {}: {}", peer, e)),
                        Err(_) => log::warn(&format!("admin request from {}: no complete exchange within {:?}", peer, IO_TIMEOUT)),
                    }
                });
            }
            Err(e) => {
                log::warn(&format!("admin accept failed: {}", e));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
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
    fn carries_status_type_allow_and_body_into_the_http_response() {
        let metrics = Metrics::default();
        let response = to_http(route("POST", "/metrics", &metrics));
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET");
        assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    }
}

//! A small TCP proxy shaped like Linkerd's data-plane proxy: an inbound (and
//! optionally an outbound) listener that forwards every connection to a fixed
//! upstream, and an admin server with `/ready` and Prometheus `/metrics`.
//! Between two proxies the traffic can be TLS: the outbound side originates
//! it, the inbound side terminates it. tokio, hyper and rustls (with ring).

pub mod admin;
pub mod config;
pub mod log;
pub mod metrics;
pub mod platform;
pub mod proxy;
pub mod tls;
pub mod version;

//! TCP forwarding on tokio: accept on a listener, connect to the upstream
//! address, and copy bytes both ways until both sides are done. Either side
//! may be TLS: the inbound listener can terminate it (the client speaks TLS to
//! us), outbound connections can originate it (we speak TLS to the upstream).
//!
//! Each connection is one task copying both directions. A clean end of stream
//! on one side is passed on as a half-close (`shutdown`; for TLS a
//! close_notify, then the TCP half-close) so request/response protocols that
//! signal "request done" by closing their write side still get their
//! response. An error on either side ends both directions: the task drops
//! both streams, which closes them.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::log;
use crate::metrics::{Counters, Direction, Metrics};
use crate::tls::Originate;

/// How long to wait for the upstream to accept a connection before giving up
/// on the client's connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A peer that never finishes its TLS handshake must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (for example, out of file descriptors) so the
/// loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

const COPY_BUFFER_SIZE: usize = 16 * 1024;

/// How one listener's connections are handled.
#[derive(Clone)]
pub struct Route {
    pub forward: SocketAddr,
    pub direction: Direction,
    /// Terminate TLS from clients (inbound).
    pub terminate: Option<TlsAcceptor>,
    /// Originate TLS to the upstream (outbound).
    pub originate: Option<Originate>,
}

/// Accepts connections forever, forwarding each one on its own task.
pub async fn serve(listener: TcpListener, route: Route, metrics: Arc<Metrics>) {
    let route = Arc::new(route);
    loop {
        match listener.accept().await {
            Ok((client, peer)) => {
                let metrics = Arc::clone(&metrics);
                let route = Arc::clone(&route);
                tokio::spawn(async move {
                    let counters = metrics.counters(route.direction);
                    counters.connection_opened();
                    if let Err(e) = forward_connection(client, &route, counters).await {
                        log::warn(&format!("{} connection from {} to {}: {}", route.direction.label(), peer, route.forward, e));
                    }
                    counters.connection_closed();
                });
            }
            Err(e) => {
                log::warn(&format!("{} accept failed: {}", route.direction.label(), e));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Runs the handshakes the route asks for, then copies both ways. Returns the
/// first error, if any.
pub async fn forward_connection(client: TcpStream, route: &Route, counters: &Counters) -> io::Result<()> {
    // Small writes (prompts, handshakes) should not wait for Nagle's timer.
    let _ = client.set_nodelay(true);
    match &route.terminate {
        Some(acceptor) => {
            // The client's handshake comes first: a client that does not
            // speak TLS costs no upstream connection.
            let client = handshake(acceptor.accept(client), counters, "terminating TLS from the client").await?;
            let upstream = open_upstream(route, counters).await?;
            pump(client, upstream, counters).await
        }
        None => {
            let upstream = open_upstream(route, counters).await?;
            pump(client, upstream, counters).await
        }
    }
}

/// A TLS handshake, bounded in time; a failure counts as a TLS error.
async fn handshake<S>(accept: impl Future<Output = io::Result<S>>, counters: &Counters, what: &str) -> io::Result<S> {
    match timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(tls_failed(counters, what, e)),
        Err(_) => Err(tls_failed(counters, what, timed_out())),
    }
}

/// The upstream stream, wrapped in TLS when the route originates it.
enum Upstream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

async fn open_upstream(route: &Route, counters: &Counters) -> io::Result<Upstream> {
    let upstream = connect(route.forward, counters).await?;
    match &route.originate {
        None => Ok(Upstream::Plain(upstream)),
        Some(originate) => {
            let connector = TlsConnector::from(Arc::clone(&originate.config));
            let connecting = connector.connect(originate.name.clone(), upstream);
            let tls = handshake(connecting, counters, "originating TLS to the upstream").await?;
            Ok(Upstream::Tls(Box::new(tls)))
        }
    }
}

async fn pump<C>(client: C, upstream: Upstream, counters: &Counters) -> io::Result<()>
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    match upstream {
        Upstream::Plain(upstream) => copy_both(client, upstream, counters).await,
        Upstream::Tls(upstream) => copy_both(client, *upstream, counters).await,
    }
}

async fn connect(forward: SocketAddr, counters: &Counters) -> io::Result<TcpStream> {
    let result = match timeout(CONNECT_TIMEOUT, TcpStream::connect(forward)).await {
        Ok(result) => result,
        Err(_) => Err(timed_out()),
    };
    match result {
        Ok(upstream) => {
            let _ = upstream.set_nodelay(true);
            Ok(upstream)
        }
        Err(e) => {
            counters.connect_error();
            Err(io::Error::new(e.kind(), format!("connecting upstream: {}", e)))
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(ErrorKind::TimedOut, "timed out")
}

fn tls_failed(counters: &Counters, what: &str, e: io::Error) -> io::Error {
    counters.tls_error();
    io::Error::new(e.kind(), format!("{}: {}", what, e))
}

/// Copies client -> upstream and upstream -> client at the same time until
/// both have ended, or until either fails (which drops, so closes, both).
async fn copy_both<C, U>(client: C, upstream: U, counters: &Counters) -> io::Result<()>
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let (client_read, client_write) = tokio::io::split(client);
    let (upstream_read, upstream_write) = tokio::io::split(upstream);
    let request = copy_half(client_read, upstream_write, |n| counters.bytes_read(n));
    let response = copy_half(upstream_read, client_write, |n| counters.bytes_written(n));
    tokio::try_join!(request, response).map(|_| ())
}

/// Copies from `from` to `to` until `from` ends, then half-closes `to`.
/// `on_bytes` is told of each chunk once it has been written in full, so
/// /metrics is live during long transfers and exact once they end.
async fn copy_half<R, W>(mut from: R, mut to: W, on_bytes: impl Fn(u64)) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; COPY_BUFFER_SIZE];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n]).await?;
        // A TLS stream buffers records; the peer must get them now.
        to.flush().await?;
        total += n as u64;
        on_bytes(n as u64);
    }
    // The peer may already be gone (NotConnected); that is not a copy error.
    match to.shutdown().await {
        Err(e) if e.kind() != ErrorKind::NotConnected => Err(e),
        _ => Ok(total),
    }
}

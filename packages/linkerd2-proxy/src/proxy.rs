//! TCP forwarding: accept on a listener, connect to the upstream address, and
//! copy bytes both ways until both sides are done.
//!
//! Each connection gets one thread per direction. A clean end of stream on one
//! side is passed on as a half-close (`shutdown(Write)`) so request/response
//! protocols that signal "request done" by closing their write side still get
//! their response. An error on either side tears down both sockets, so the
//! other direction's blocked read returns instead of hanging forever.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::log;
use crate::metrics::{Counters, Direction, Metrics};

/// How long to wait for the upstream to accept a connection before giving up
/// on the client's connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (for example, out of file descriptors) so the
/// loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

const COPY_BUFFER_SIZE: usize = 16 * 1024;

/// Accepts connections forever, forwarding each one to `forward` on its own
/// thread.
pub fn serve(listener: TcpListener, forward: SocketAddr, direction: Direction, metrics: Arc<Metrics>) {
    loop {
        match listener.accept() {
            Ok((client, peer)) => {
                let metrics = Arc::clone(&metrics);
                let spawned = thread::Builder::new()
                    .name(format!("{}-conn", direction.label()))
                    .spawn(move || {
                        let counters = metrics.counters(direction);
                        counters.connection_opened();
                        if let Err(e) = forward_connection(client, forward, counters) {
                            log::warn(&format!(
                                "{} connection from {} to {}: {}",
                                direction.label(),
                                peer,
                                forward,
                                e
                            ));
                        }
                        counters.connection_closed();
                    });
                if let Err(e) = spawned {
                    // The client socket was moved into the closure and is
                    // dropped (closed) with it.
                    log::warn(&format!("{} connection from {} dropped: cannot start a thread: {}", direction.label(), peer, e));
                }
            }
            Err(e) => {
                log::warn(&format!("{} accept failed: {}", direction.label(), e));
                thread::sleep(ACCEPT_BACKOFF);
            }
        }
    }
}

/// Connects to `forward` and copies bytes both ways between it and `client`
/// until both directions have ended. Returns the first copy error, if any.
pub fn forward_connection(client: TcpStream, forward: SocketAddr, counters: &Counters) -> io::Result<()> {
    let upstream = match TcpStream::connect_timeout(&forward, CONNECT_TIMEOUT) {
        Ok(upstream) => upstream,
        Err(e) => {
            counters.connect_error();
            return Err(io::Error::new(e.kind(), format!("connecting upstream: {}", e)));
        }
    };
    // Small writes (prompts, handshakes) should not wait for Nagle's timer.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    // Client -> upstream on a scoped helper thread (it borrows `counters`),
    // upstream -> client on this one.
    thread::scope(|scope| {
        let request = thread::Builder::new()
            .name("copy-request".to_string())
            .spawn_scoped(scope, || copy_half(&client, &upstream, &|n| counters.bytes_read(n)))?;
        let response = copy_half(&upstream, &client, &|n| counters.bytes_written(n));
        let request = match request.join() {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(ErrorKind::Other, "request copy thread panicked")),
        };
        request.and(response).map(|_| ())
    })
}

/// Copies from `from` to `to` until `from` ends, then half-closes `to`.
/// `on_bytes` is told of each chunk once it has been written in full, so
/// /metrics is live during long transfers and exact once they end. On an
/// error both sockets are shut down so the opposite direction ends too.
fn copy_half(from: &TcpStream, to: &TcpStream, on_bytes: &dyn Fn(u64)) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_BUFFER_SIZE];
    let mut total = 0u64;
    let mut reader = from;
    let mut writer = to;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(abort(from, to, e)),
        };
        if let Err(e) = writer.write_all(&buf[..n]) {
            return Err(abort(from, to, e));
        }
        total += n as u64;
        on_bytes(n as u64);
    }
    // The peer may already be gone (NotConnected); that is not a copy error.
    match to.shutdown(Shutdown::Write) {
        Err(e) if e.kind() != ErrorKind::NotConnected => Err(abort(from, to, e)),
        _ => Ok(total),
    }
}

fn abort(a: &TcpStream, b: &TcpStream, e: io::Error) -> io::Error {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
    e
}

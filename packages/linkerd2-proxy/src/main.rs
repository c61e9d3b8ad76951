//! `linkerd2-proxy`: binds every listener named by the environment, then
//! serves them until killed.
//!
//! Exit codes: 0 for `--version`/`--help`, 2 for usage or configuration
//! errors, 1 when a listener cannot be bound or a server thread dies.

use std::net::{SocketAddr, TcpListener};
use std::process;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use linkerd2_proxy::config::{self, Config};
use linkerd2_proxy::metrics::{Direction, Metrics};
use linkerd2_proxy::{admin, log, proxy, version};

const EXIT_RUNTIME: i32 = 1;
const EXIT_USAGE: i32 = 2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("--version") | Some("-V") if args.len() == 1 => {
            println!("{}", version::version_line());
            return;
        }
        Some("--help") | Some("-h") if args.len() == 1 => {
            print!("{}", usage());
            return;
        }
        Some(_) => {
            log::error(&format!("unexpected arguments: {}", args.join(" ")));
            eprint!("{}", usage());
            process::exit(EXIT_USAGE);
        }
    }

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            log::error(&format!("invalid configuration: {}", e));
            process::exit(EXIT_USAGE);
        }
    };

    if let Err(message) = run(config) {
        log::error(&message);
        process::exit(EXIT_RUNTIME);
    }
}

/// Binds every listener first, so a bad address fails before anything is
/// announced, then logs each "listening on" line (what readiness checks wait
/// for) and serves.
fn run(config: Config) -> Result<(), String> {
    let metrics = Arc::new(Metrics::default());

    let inbound = bind(config.inbound.listen, config::INBOUND_LISTEN_ADDR)?;
    let outbound = match config.outbound {
        Some(route) => Some((bind(route.listen, config::OUTBOUND_LISTEN_ADDR)?, route.forward)),
        None => None,
    };
    let admin_listener = bind(config.admin, config::ADMIN_LISTEN_ADDR)?;

    log::info(&version::version_line());
    let mut servers: Vec<JoinHandle<()>> = Vec::new();
    servers.push(start_proxy(inbound, config.inbound.forward, Direction::Inbound, &metrics)?);
    if let Some((listener, forward)) = outbound {
        servers.push(start_proxy(listener, forward, Direction::Outbound, &metrics)?);
    }
    log::info(&format!("admin listening on {}", local_addr(&admin_listener)));
    let admin_metrics = Arc::clone(&metrics);
    servers.push(spawn("admin", move || admin::serve(admin_listener, admin_metrics))?);

    // The servers loop forever; reaching past a join means one has panicked.
    for server in servers {
        let name = server.thread().name().unwrap_or("server").to_string();
        if server.join().is_err() {
            return Err(format!("{} server stopped unexpectedly", name));
        }
    }
    Ok(())
}

fn start_proxy(
    listener: TcpListener,
    forward: SocketAddr,
    direction: Direction,
    metrics: &Arc<Metrics>,
) -> Result<JoinHandle<()>, String> {
    log::info(&format!(
        "{} listening on {}, forwarding to {}",
        direction.label(),
        local_addr(&listener),
        forward
    ));
    let metrics = Arc::clone(metrics);
    spawn(direction.label(), move || proxy::serve(listener, forward, direction, metrics))
}

fn bind(addr: SocketAddr, var: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).map_err(|e| {
        format!(
            "cannot listen on {} (from {}): {}\n  hint: choose a free port and an address of this host",
            addr, var, e
        )
    })
}

/// The bound address, which differs from the configured one for port 0.
fn local_addr(listener: &TcpListener) -> String {
    match listener.local_addr() {
        Ok(addr) => addr.to_string(),
        Err(e) => format!("<unknown address: {}>", e),
    }
}

fn spawn<F>(name: &str, body: F) -> Result<JoinHandle<()>, String>
where
    F: FnOnce() + Send + 'static,
{
    thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .map_err(|e| format!("cannot start the {} server thread: {}", name, e))
}

fn usage() -> String {
    let mut text = format!(
        "{}\n\nUsage: linkerd2-proxy [--version | --help]\n\nConfiguration is read from the environment:\n",
        version::version_line()
    );
    let descriptions = [
        "address to accept inbound connections on (required)",
        "address inbound connections are forwarded to (required)",
        "address to accept outbound connections on (optional, with the next)",
        "address outbound connections are forwarded to (optional, with the previous)",
        "address of the admin server: /ready, /live, /metrics (required)",
    ];
    for (var, description) in config::ALL_VARS.iter().zip(descriptions.iter()) {
        text.push_str(&format!("  {:<38} {}\n", var, description));
    }
    text
}

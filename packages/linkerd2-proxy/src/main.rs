//! `linkerd2-proxy`: binds every listener named by the environment, then
//! serves them until killed.
//!
//! Exit codes: 0 for `--version`/`--help`, 2 for usage or configuration
//! errors (TLS material included), 1 when a listener cannot be bound or a
//! server stops.

use std::net::SocketAddr;
use std::process;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use linkerd2_proxy::config::{self, Config};
use linkerd2_proxy::metrics::{Direction, Metrics};
use linkerd2_proxy::{admin, log, proxy, tls, version};

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

    // TLS material is configuration too: a bad certificate is a usage error,
    // found before anything listens.
    let terminate = match config.inbound_tls.as_ref().map(tls::server_config).transpose() {
        Ok(server) => server.map(TlsAcceptor::from),
        Err(e) => {
            log::error(&format!("invalid TLS configuration: {}", e));
            process::exit(EXIT_USAGE);
        }
    };
    let originate = match config.outbound_tls.as_ref().map(tls::client_config).transpose() {
        Ok(client) => client,
        Err(e) => {
            log::error(&format!("invalid TLS configuration: {}", e));
            process::exit(EXIT_USAGE);
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            log::error(&format!("cannot start the async runtime: {}", e));
            process::exit(EXIT_RUNTIME);
        }
    };
    if let Err(message) = runtime.block_on(run(config, terminate, originate)) {
        log::error(&message);
        process::exit(EXIT_RUNTIME);
    }
}

/// Binds every listener first, so a bad address fails before anything is
/// announced, then logs each "listening on" line (what readiness checks wait
/// for) and serves.
async fn run(config: Config, terminate: Option<TlsAcceptor>, originate: Option<tls::Originate>) -> Result<(), String> {
    let metrics = Arc::new(Metrics::default());

    let inbound = bind(config.inbound.listen, config::INBOUND_LISTEN_ADDR).await?;
    let outbound = match config.outbound {
        Some(route) => Some((bind(route.listen, config::OUTBOUND_LISTEN_ADDR).await?, route.forward)),
        None => None,
    };
    let admin_listener = bind(config.admin, config::ADMIN_LISTEN_ADDR).await?;

    log::info(&version::version_line());
    let mut servers = JoinSet::new();
    let inbound_route = proxy::Route {
        forward: config.inbound.forward,
        direction: Direction::Inbound,
        terminate,
        originate: None,
    };
    start_proxy(&mut servers, inbound, inbound_route, &metrics);
    if let Some((listener, forward)) = outbound {
        let route = proxy::Route { forward, direction: Direction::Outbound, terminate: None, originate };
        start_proxy(&mut servers, listener, route, &metrics);
    }
    log::info(&format!("admin listening on {}", local_addr(&admin_listener)));
    let admin_metrics = Arc::clone(&metrics);
    servers.spawn(async move {
        admin::serve(admin_listener, admin_metrics).await;
        "admin"
    });

    // The servers loop forever; one that returns or panics ends the proxy.
    match servers.join_next().await {
        Some(Ok(name)) => Err(format!("the {} server stopped unexpectedly", name)),
        Some(Err(e)) => Err(format!("a server stopped unexpectedly: {}", e)),
        None => Err("no server was started".to_string()),
    }
}

fn start_proxy(servers: &mut JoinSet<&'static str>, listener: TcpListener, route: proxy::Route, metrics: &Arc<Metrics>) {
    let direction = route.direction;
    let tls = match (&route.terminate, &route.originate) {
        (Some(_), _) => ", terminating TLS",
        (_, Some(_)) => ", originating TLS",
        _ => "",
    };
    log::info(&format!(
        "{} listening on {}, forwarding to {}{}",
        direction.label(),
        local_addr(&listener),
        route.forward,
        tls
    ));
    let metrics = Arc::clone(metrics);
    servers.spawn(async move {
        proxy::serve(listener, route, metrics).await;
        direction.label()
    });
}

async fn bind(addr: SocketAddr, var: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).await.map_err(|e| {
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
        "inbound TLS certificate chain, PEM file or text (optional, with the next)",
        "inbound TLS private key, PEM file or text (optional, with the previous)",
        "outbound TLS trust roots, PEM file or text (optional, with the next)",
        "name the upstream's certificate must carry (optional, with the previous)",
    ];
    for (var, description) in config::ALL_VARS.iter().zip(descriptions.iter()) {
        text.push_str(&format!("  {:<38} {}\n", var, description));
    }
    text
}

//! Configuration from the environment, under Linkerd's variable names.
//!
//! Reading is separated from the process environment (`from_lookup`) so every
//! rule is unit-tested without mutating the test process's environment.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;

pub const INBOUND_LISTEN_ADDR: &str = "LINKERD2_PROXY_INBOUND_LISTEN_ADDR";
pub const INBOUND_FORWARD_ADDR: &str = "LINKERD2_PROXY_INBOUND_FORWARD_ADDR";
pub const OUTBOUND_LISTEN_ADDR: &str = "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR";
pub const OUTBOUND_FORWARD_ADDR: &str = "LINKERD2_PROXY_OUTBOUND_FORWARD_ADDR";
pub const ADMIN_LISTEN_ADDR: &str = "LINKERD2_PROXY_ADMIN_LISTEN_ADDR";
pub const INBOUND_TLS_CERT: &str = "LINKERD2_PROXY_INBOUND_TLS_CERT";
pub const INBOUND_TLS_KEY: &str = "LINKERD2_PROXY_INBOUND_TLS_KEY";
pub const OUTBOUND_TLS_CA: &str = "LINKERD2_PROXY_OUTBOUND_TLS_CA";
pub const OUTBOUND_TLS_NAME: &str = "LINKERD2_PROXY_OUTBOUND_TLS_NAME";

/// Every variable the proxy reads, in the order `--help` lists them.
pub const ALL_VARS: [&str; 9] = [
    INBOUND_LISTEN_ADDR,
    INBOUND_FORWARD_ADDR,
    OUTBOUND_LISTEN_ADDR,
    OUTBOUND_FORWARD_ADDR,
    ADMIN_LISTEN_ADDR,
    INBOUND_TLS_CERT,
    INBOUND_TLS_KEY,
    OUTBOUND_TLS_CA,
    OUTBOUND_TLS_NAME,
];

/// A PEM document as configured: the PEM text itself (a value starting with
/// `-----BEGIN`, handy where only environment variables reach the process)
/// or the path of a file holding it (a mounted secret). `var` names the
/// variable it came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemSource {
    pub var: &'static str,
    pub value: String,
}

/// The inbound listener terminates TLS with this certificate chain and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    pub cert: PemSource,
    pub key: PemSource,
}

/// Outbound connections originate TLS: the upstream must present a
/// certificate for `name` issued by one of the `ca` roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTls {
    pub ca: PemSource,
    pub name: String,
}

/// One listener and the upstream its connections are forwarded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub listen: SocketAddr,
    pub forward: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub inbound: Route,
    /// The outbound listener is optional: it exists only when both of its
    /// variables are set.
    pub outbound: Option<Route>,
    pub admin: SocketAddr,
    /// Set when the inbound listener terminates TLS.
    pub inbound_tls: Option<ServerTls>,
    /// Set when outbound connections originate TLS.
    pub outbound_tls: Option<ClientTls>,
}

/// A configuration problem: which variable, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n  hint: {}", self.var, self.problem, self.hint)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the configuration through `lookup`, which returns a variable's
    /// value or `None` when it is unset.
    pub fn from_lookup<F>(lookup: F) -> Result<Config, ConfigError>
    where
        F: Fn(&str) -> Option<OsString>,
    {
        let inbound = Route {
            listen: required_addr(&lookup, INBOUND_LISTEN_ADDR, AddrRole::Listen)?,
            forward: required_addr(&lookup, INBOUND_FORWARD_ADDR, AddrRole::Forward)?,
        };
        check_not_a_loop(inbound, INBOUND_FORWARD_ADDR)?;

        let outbound_listen = optional_addr(&lookup, OUTBOUND_LISTEN_ADDR, AddrRole::Listen)?;
        let outbound_forward = optional_addr(&lookup, OUTBOUND_FORWARD_ADDR, AddrRole::Forward)?;
        let outbound = match (outbound_listen, outbound_forward) {
            (Some(listen), Some(forward)) => {
                let route = Route { listen, forward };
                check_not_a_loop(route, OUTBOUND_FORWARD_ADDR)?;
                Some(route)
            }
            (None, None) => None,
            (Some(_), None) => return Err(only_half_set(OUTBOUND_FORWARD_ADDR, OUTBOUND_LISTEN_ADDR)),
            (None, Some(_)) => return Err(only_half_set(OUTBOUND_LISTEN_ADDR, OUTBOUND_FORWARD_ADDR)),
        };

        let admin = required_addr(&lookup, ADMIN_LISTEN_ADDR, AddrRole::Listen)?;

        let cert = optional_text(&lookup, INBOUND_TLS_CERT)?;
        let key = optional_text(&lookup, INBOUND_TLS_KEY)?;
        let inbound_tls = match (cert, key) {
            (Some(cert), Some(key)) => Some(ServerTls {
                cert: PemSource { var: INBOUND_TLS_CERT, value: cert },
                key: PemSource { var: INBOUND_TLS_KEY, value: key },
            }),
            (None, None) => None,
            (Some(_), None) => return Err(only_half_set(INBOUND_TLS_KEY, INBOUND_TLS_CERT)),
            (None, Some(_)) => return Err(only_half_set(INBOUND_TLS_CERT, INBOUND_TLS_KEY)),
        };

        let ca = optional_text(&lookup, OUTBOUND_TLS_CA)?;
        let name = optional_text(&lookup, OUTBOUND_TLS_NAME)?;
        let outbound_tls = match (ca, name) {
            (Some(ca), Some(name)) => Some(ClientTls { ca: PemSource { var: OUTBOUND_TLS_CA, value: ca }, name }),
            (None, None) => None,
            (Some(_), None) => return Err(only_half_set(OUTBOUND_TLS_NAME, OUTBOUND_TLS_CA)),
            (None, Some(_)) => return Err(only_half_set(OUTBOUND_TLS_CA, OUTBOUND_TLS_NAME)),
        };
        if outbound_tls.is_some() && outbound.is_none() {
            return Err(ConfigError {
                var: OUTBOUND_TLS_CA,
                problem: "is set, but there is no outbound listener to originate TLS from".to_string(),
                hint: format!("set {} and {} too, or unset the outbound TLS variables", OUTBOUND_LISTEN_ADDR, OUTBOUND_FORWARD_ADDR),
            });
        }
        Ok(Config { inbound, outbound, admin, inbound_tls, outbound_tls })
    }
}

/// A variable that holds text (a PEM document or path, a server name):
/// `None` when unset, an error when set but empty or not UTF-8.
fn optional_text<F>(lookup: &F, var: &'static str) -> Result<Option<String>, ConfigError>
where
    F: Fn(&str) -> Option<OsString>,
{
    let raw = match lookup(var) {
        Some(raw) => raw,
        None => return Ok(None),
    };
    let hint = format!("set {} to a PEM file path or PEM text (a server name for {}), or unset it", var, OUTBOUND_TLS_NAME);
    match raw.into_string() {
        Ok(text) if text.trim().is_empty() => Err(ConfigError { var, problem: "is set but empty".to_string(), hint }),
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(_) => Err(ConfigError { var, problem: "is not valid UTF-8".to_string(), hint }),
    }
}

/// Listen addresses may use port 0 (the system picks one and the log says
/// which); a forward address must name a real port.
#[derive(Clone, Copy)]
enum AddrRole {
    Listen,
    Forward,
}

impl AddrRole {
    fn example(self) -> &'static str {
        match self {
            AddrRole::Listen => "0.0.0.0:4143 or [::]:4143",
            AddrRole::Forward => "127.0.0.1:8080",
        }
    }
}

fn required_addr<F>(lookup: &F, var: &'static str, role: AddrRole) -> Result<SocketAddr, ConfigError>
where
    F: Fn(&str) -> Option<OsString>,
{
    match optional_addr(lookup, var, role)? {
        Some(addr) => Ok(addr),
        None => Err(ConfigError {
            var,
            problem: "is not set".to_string(),
            hint: format!("set {} to an IP:PORT address, for example {}", var, role.example()),
        }),
    }
}

fn optional_addr<F>(lookup: &F, var: &'static str, role: AddrRole) -> Result<Option<SocketAddr>, ConfigError>
where
    F: Fn(&str) -> Option<OsString>,
{
    let raw = match lookup(var) {
        Some(raw) => raw,
        None => return Ok(None),
    };
    let bad = |problem: String| ConfigError {
        var,
        problem,
        hint: format!(
            "use an IP:PORT address (host names are not resolved), for example {}",
            role.example()
        ),
    };
    let text = match raw.to_str() {
        Some(text) => text.trim(),
        None => return Err(bad("is not valid UTF-8".to_string())),
    };
    if text.is_empty() {
        return Err(bad("is set but empty".to_string()));
    }
    let addr: SocketAddr = match text.parse() {
        Ok(addr) => addr,
        Err(_) => return Err(bad(format!("{:?} is not an IP:PORT socket address", text))),
    };
    if let AddrRole::Forward = role {
        if addr.port() == 0 {
            return Err(bad(format!("{:?} has port 0, which cannot be connected to", text)));
        }
        if addr.ip().is_unspecified() {
            return Err(bad(format!("{:?} is an unspecified address, which cannot be connected to", text)));
        }
    }
    Ok(Some(addr))
}

/// Forwarding a listener to its own address would make every connection
/// connect to itself until file descriptors run out.
fn check_not_a_loop(route: Route, forward_var: &'static str) -> Result<(), ConfigError> {
    if route.listen == route.forward {
        return Err(ConfigError {
            var: forward_var,
            problem: format!("{} is also the listen address, so connections would loop", route.forward),
            hint: "point it at the application's address, not the proxy's own listener".to_string(),
        });
    }
    Ok(())
}

fn only_half_set(missing: &'static str, present: &'static str) -> ConfigError {
    ConfigError {
        var: missing,
        problem: format!("is not set, but {} is", present),
        hint: format!("set both {} and {}, or neither to run without an outbound listener", missing, present),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(*v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            (INBOUND_LISTEN_ADDR, "0.0.0.0:4143"),
            (INBOUND_FORWARD_ADDR, "127.0.0.1:8080"),
            (ADMIN_LISTEN_ADDR, "[::]:4191"),
        ]
    }

    fn error_for(pairs: &[(&str, &str)]) -> ConfigError {
        Config::from_lookup(lookup_from(pairs)).expect_err("configuration should be rejected")
    }

    #[test]
    fn reads_the_minimal_configuration_without_outbound() {
        let config = Config::from_lookup(lookup_from(&minimal())).unwrap();
        assert_eq!(config.inbound.listen, "0.0.0.0:4143".parse().unwrap());
        assert_eq!(config.inbound.forward, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.admin, "[::]:4191".parse().unwrap());
        assert_eq!(config.outbound, None);
    }

    #[test]
    fn reads_the_outbound_route_when_both_variables_are_set() {
        let mut pairs = minimal();
        pairs.push((OUTBOUND_LISTEN_ADDR, "127.0.0.1:4140"));
        pairs.push((OUTBOUND_FORWARD_ADDR, " 10.0.0.7:80 "));
        let config = Config::from_lookup(lookup_from(&pairs)).unwrap();
        assert_eq!(
            config.outbound,
            Some(Route {
                listen: "127.0.0.1:4140".parse().unwrap(),
                forward: "10.0.0.7:80".parse().unwrap(),
            })
        );
    }

    #[test]
    fn names_each_missing_required_variable() {
        for var in [INBOUND_LISTEN_ADDR, INBOUND_FORWARD_ADDR, ADMIN_LISTEN_ADDR] {
            let pairs: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != var).collect();
            let err = error_for(&pairs);
            assert_eq!(err.var, var);
            assert_eq!(err.problem, "is not set");
            assert!(err.hint.contains(var), "hint should name the variable: {}", err.hint);
        }
    }

    #[test]
    fn rejects_addresses_that_are_not_ip_and_port() {
        for bad in ["localhost:4143", "4143", "0.0.0.0", "0.0.0.0:99999", "  "] {
            let mut pairs = minimal();
            pairs.retain(|(k, _)| *k != INBOUND_LISTEN_ADDR);
            pairs.push((INBOUND_LISTEN_ADDR, bad));
            let err = error_for(&pairs);
            assert_eq!(err.var, INBOUND_LISTEN_ADDR, "value {:?}", bad);
            assert!(err.hint.contains("IP:PORT"), "hint: {}", err.hint);
        }
    }

    #[test]
    fn rejects_forward_addresses_that_cannot_be_connected_to() {
        for bad in ["127.0.0.1:0", "0.0.0.0:8080"] {
            let mut pairs = minimal();
            pairs.retain(|(k, _)| *k != INBOUND_FORWARD_ADDR);
            pairs.push((INBOUND_FORWARD_ADDR, bad));
            assert_eq!(error_for(&pairs).var, INBOUND_FORWARD_ADDR, "value {:?}", bad);
        }
    }

    #[test]
    fn rejects_a_route_that_forwards_to_itself() {
        let pairs = [
            (INBOUND_LISTEN_ADDR, "127.0.0.1:4143"),
            (INBOUND_FORWARD_ADDR, "127.0.0.1:4143"),
            (ADMIN_LISTEN_ADDR, "127.0.0.1:4191"),
        ];
        let err = error_for(&pairs);
        assert_eq!(err.var, INBOUND_FORWARD_ADDR);
        assert!(err.problem.contains("loop"), "problem: {}", err.problem);
    }

    #[test]
    fn rejects_half_an_outbound_route() {
        let mut pairs = minimal();
        pairs.push((OUTBOUND_LISTEN_ADDR, "127.0.0.1:4140"));
        let err = error_for(&pairs);
        assert_eq!(err.var, OUTBOUND_FORWARD_ADDR);
        assert!(err.hint.contains(OUTBOUND_LISTEN_ADDR));

        let mut pairs = minimal();
        pairs.push((OUTBOUND_FORWARD_ADDR, "127.0.0.1:80"));
        assert_eq!(error_for(&pairs).var, OUTBOUND_LISTEN_ADDR);
    }

    #[test]
    fn rejects_values_that_are_not_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let lookup = |name: &str| {
            if name == ADMIN_LISTEN_ADDR {
                Some(OsString::from_vec(vec![0xff, 0xfe]))
            } else {
                lookup_from(&minimal())(name)
            }
        };
        let err = Config::from_lookup(lookup).unwrap_err();
        assert_eq!(err.var, ADMIN_LISTEN_ADDR);
        assert!(err.problem.contains("UTF-8"));
    }

    #[test]
    fn reads_tls_settings_in_pairs() {
        let mut pairs = minimal();
        pairs.push((OUTBOUND_LISTEN_ADDR, "127.0.0.1:4140"));
        pairs.push((OUTBOUND_FORWARD_ADDR, "127.0.0.1:4143"));
        pairs.push((INBOUND_TLS_CERT, "/etc/tls/crt.pem"));
        pairs.push((INBOUND_TLS_KEY, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
        pairs.push((OUTBOUND_TLS_CA, "/etc/tls/ca.pem"));
        pairs.push((OUTBOUND_TLS_NAME, " web.default.svc "));
        let config = Config::from_lookup(lookup_from(&pairs)).unwrap();
        let inbound = config.inbound_tls.expect("inbound TLS");
        assert_eq!(inbound.cert, PemSource { var: INBOUND_TLS_CERT, value: "/etc/tls/crt.pem".to_string() });
        assert!(inbound.key.value.starts_with("-----BEGIN PRIVATE KEY-----"));
        let outbound = config.outbound_tls.expect("outbound TLS");
        assert_eq!(outbound.name, "web.default.svc");
        assert_eq!(outbound.ca.var, OUTBOUND_TLS_CA);

        assert_eq!(Config::from_lookup(lookup_from(&minimal())).unwrap().inbound_tls, None);
    }

    #[test]
    fn rejects_half_a_tls_setting() {
        let mut pairs = minimal();
        pairs.push((INBOUND_TLS_CERT, "/etc/tls/crt.pem"));
        let err = error_for(&pairs);
        assert_eq!(err.var, INBOUND_TLS_KEY);
        assert!(err.hint.contains(INBOUND_TLS_CERT));

        let mut pairs = minimal();
        pairs.push((OUTBOUND_LISTEN_ADDR, "127.0.0.1:4140"));
        pairs.push((OUTBOUND_FORWARD_ADDR, "127.0.0.1:4143"));
        pairs.push((OUTBOUND_TLS_CA, "/etc/tls/ca.pem"));
        assert_eq!(error_for(&pairs).var, OUTBOUND_TLS_NAME);
    }

    #[test]
    fn rejects_outbound_tls_without_an_outbound_listener() {
        let mut pairs = minimal();
        pairs.push((OUTBOUND_TLS_CA, "/etc/tls/ca.pem"));
        pairs.push((OUTBOUND_TLS_NAME, "web"));
        let err = error_for(&pairs);
        assert_eq!(err.var, OUTBOUND_TLS_CA);
        assert!(err.hint.contains(OUTBOUND_LISTEN_ADDR));
    }

    #[test]
    fn displays_the_variable_problem_and_hint() {
        let err = error_for(&[]);
        let text = err.to_string();
        assert!(text.starts_with(INBOUND_LISTEN_ADDR), "{}", text);
        assert!(text.contains("hint:"), "{}", text);
    }
}

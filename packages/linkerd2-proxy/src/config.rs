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

/// Every variable the proxy reads, in the order `--help` lists them.
pub const ALL_VARS: [&str; 5] = [
    INBOUND_LISTEN_ADDR,
    INBOUND_FORWARD_ADDR,
    OUTBOUND_LISTEN_ADDR,
    OUTBOUND_FORWARD_ADDR,
    ADMIN_LISTEN_ADDR,
];

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
        Ok(Config { inbound, outbound, admin })
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
    fn displays_the_variable_problem_and_hint() {
        let err = error_for(&[]);
        let text = err.to_string();
        assert!(text.starts_with(INBOUND_LISTEN_ADDR), "{}", text);
        assert!(text.contains("hint:"), "{}", text);
    }
}

//! Connection and byte counters per traffic direction, rendered in the
//! Prometheus text exposition format (version 0.0.4).
//!
//! Counters are atomics because every connection's tasks update them (on any runtime thread)
//! while the admin server reads them; `Relaxed` ordering is enough since each
//! counter is independent and only ever grows.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which listener a connection came in on; the `direction` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::Inbound, Direction::Outbound];

    pub fn label(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Counters of one direction. "Read" and "write" are seen from the proxy's
/// side of the accepted (client) connection: bytes read from clients and
/// bytes written back to them.
#[derive(Debug, Default)]
pub struct Counters {
    opened: AtomicU64,
    closed: AtomicU64,
    read_bytes: AtomicU64,
    write_bytes: AtomicU64,
    connect_errors: AtomicU64,
    tls_errors: AtomicU64,
}

impl Counters {
    pub fn connection_opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }
    pub fn connection_closed(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
    }
    pub fn bytes_read(&self, n: u64) {
        self.read_bytes.fetch_add(n, Ordering::Relaxed);
    }
    pub fn bytes_written(&self, n: u64) {
        self.write_bytes.fetch_add(n, Ordering::Relaxed);
    }
    pub fn connect_error(&self) {
        self.connect_errors.fetch_add(1, Ordering::Relaxed);
    }
    pub fn tls_error(&self) {
        self.tls_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// One metric family: its name, help text and how to read it from counters.
struct Family {
    name: &'static str,
    help: &'static str,
    value: fn(&Counters) -> u64,
}

const FAMILIES: [Family; 6] = [
    Family {
        name: "tcp_open_total",
        help: "Total count of accepted TCP connections.",
        value: |c| c.opened.load(Ordering::Relaxed),
    },
    Family {
        name: "tcp_close_total",
        help: "Total count of closed TCP connections.",
        value: |c| c.closed.load(Ordering::Relaxed),
    },
    Family {
        name: "tcp_read_bytes_total",
        help: "Total count of bytes read from clients.",
        value: |c| c.read_bytes.load(Ordering::Relaxed),
    },
    Family {
        name: "tcp_write_bytes_total",
        help: "Total count of bytes written to clients.",
        value: |c| c.write_bytes.load(Ordering::Relaxed),
    },
    Family {
        name: "tcp_connect_error_total",
        help: "Total count of failed connections to the upstream address.",
        value: |c| c.connect_errors.load(Ordering::Relaxed),
    },
    Family {
        name: "tls_handshake_error_total",
        help: "Total count of failed TLS handshakes (terminated inbound, originated outbound).",
        value: |c| c.tls_errors.load(Ordering::Relaxed),
    },
];

/// All counters of the process.
#[derive(Debug, Default)]
pub struct Metrics {
    inbound: Counters,
    outbound: Counters,
}

impl Metrics {
    pub fn counters(&self, direction: Direction) -> &Counters {
        match direction {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        }
    }

    /// The Prometheus text exposition of every counter. Both directions are
    /// always present (zero when unused) so dashboards see stable series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for family in FAMILIES.iter() {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} counter", family.name);
            for direction in Direction::ALL {
                let value = (family.value)(self.counters(direction));
                let _ = writeln!(out, "{}{{direction=\"{}\"}} {}", family.name, direction.label(), value);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `name{direction="<label>"}` in a rendered exposition.
    fn sample(text: &str, name: &str, label: &str) -> Option<u64> {
        let prefix = format!("{}{{direction=\"{}\"}} ", name, label);
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map(|value| value.parse().expect("sample value is an integer"))
    }

    #[test]
    fn renders_each_counter_per_direction() {
        let metrics = Metrics::default();
        let inbound = metrics.counters(Direction::Inbound);
        inbound.connection_opened();
        inbound.connection_opened();
        inbound.connection_closed();
        inbound.bytes_read(10);
        inbound.bytes_read(5);
        inbound.bytes_written(7);
        metrics.counters(Direction::Outbound).connect_error();
        metrics.counters(Direction::Outbound).tls_error();

        let text = metrics.render();
        assert_eq!(sample(&text, "tcp_open_total", "inbound"), Some(2));
        assert_eq!(sample(&text, "tcp_close_total", "inbound"), Some(1));
        assert_eq!(sample(&text, "tcp_read_bytes_total", "inbound"), Some(15));
        assert_eq!(sample(&text, "tcp_write_bytes_total", "inbound"), Some(7));
        assert_eq!(sample(&text, "tcp_connect_error_total", "inbound"), Some(0));
        assert_eq!(sample(&text, "tcp_open_total", "outbound"), Some(0));
        assert_eq!(sample(&text, "tcp_connect_error_total", "outbound"), Some(1));
        assert_eq!(sample(&text, "tls_handshake_error_total", "outbound"), Some(1));
        assert_eq!(sample(&text, "tls_handshake_error_total", "inbound"), Some(0));
    }

    #[test]
    fn declares_help_and_type_before_each_family_samples() {
        let text = Metrics::default().render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), FAMILIES.len() * 4);
        for (i, family) in FAMILIES.iter().enumerate() {
            let block = &lines[i * 4..i * 4 + 4];
            assert_eq!(block[0], format!("# HELP {} {}", family.name, family.help));
            assert_eq!(block[1], format!("# TYPE {} counter", family.name));
            assert!(block[2].starts_with(&format!("{}{{direction=\"inbound\"}} ", family.name)));
            assert!(block[3].starts_with(&format!("{}{{direction=\"outbound\"}} ", family.name)));
        }
        assert!(text.ends_with('\n'), "the exposition ends with a line feed");
    }
}

//! Log lines on stderr, one per event, in a fixed shape that tests and
//! operators can grep: `linkerd2-proxy: <LEVEL> <message>`.

use std::io::Write;

pub fn info(message: &str) {
    line("INFO", message);
}

pub fn warn(message: &str) {
    line("WARN", message);
}

pub fn error(message: &str) {
    line("ERROR", message);
}

fn line(level: &str, message: &str) {
    // One write call per line keeps lines from different threads whole; a
    // closed stderr must not take the proxy down, so errors are ignored.
    let text = format!("linkerd2-proxy: {} {}\n", level, message);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

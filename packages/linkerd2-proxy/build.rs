//! Records the OCI architecture of the compile target, so `--version` can say
//! `linux/<arch>` for cross builds too (see src/platform.rs for why the triple
//! is needed).

#[path = "src/platform.rs"]
mod platform;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/platform.rs");
    let arch = required_env("CARGO_CFG_TARGET_ARCH");
    let endian = required_env("CARGO_CFG_TARGET_ENDIAN");
    let triple = required_env("TARGET");
    println!(
        "cargo:rustc-env=LINKERD2_PROXY_OCI_ARCH={}",
        platform::oci_arch(&arch, &endian, &triple)
    );
}

/// Cargo always sets these for build scripts; a missing one means the script
/// is run outside cargo, which is a usage error worth a clear message.
fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) => value,
        Err(_) => panic!("{} is not set: build.rs must be run by cargo", name),
    }
}

//! The `--version` line: `linkerd2-proxy <version> linux/<arch>`, where
//! `<arch>` is the OCI name of the compile target (recorded by build.rs), so a
//! cross-built binary run under qemu says which platform it was built for.

pub const NAME: &str = "linkerd2-proxy";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const OCI_ARCH: &str = env!("LINKERD2_PROXY_OCI_ARCH");

pub fn version_line() -> String {
    format!("{} {} linux/{}", NAME, VERSION, OCI_ARCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An oracle independent of platform.rs for the hosts tests run on.
    fn expected_host_arch() -> Option<&'static str> {
        if cfg!(target_arch = "x86_64") {
            Some("amd64")
        } else if cfg!(target_arch = "aarch64") {
            Some("arm64")
        } else {
            None
        }
    }

    #[test]
    fn names_the_binary_its_version_and_the_target_platform() {
        let line = version_line();
        assert_eq!(line, format!("linkerd2-proxy {} linux/{}", env!("CARGO_PKG_VERSION"), OCI_ARCH));
        assert!(!OCI_ARCH.is_empty());
        if let Some(arch) = expected_host_arch() {
            assert_eq!(OCI_ARCH, arch);
        }
    }
}

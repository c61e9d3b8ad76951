//! Maps a Rust compile target to the Docker/OCI architecture name that
//! `--version` reports (`amd64`, `arm64`, `arm/v7`, ...).
//!
//! This file is compiled twice: by `build.rs` (which knows the target triple)
//! and into the library (so the mapping is unit-tested). It must therefore
//! only use `std` and must not refer to other modules of the crate.
//!
//! Why the triple and not only `cfg(target_feature = "v7")`: on stable rustc
//! (1.85 included) the arm `v7` feature is gated and never appears in `cfg`,
//! so only the triple (`armv7-...` versus `arm-...`) tells v7 from v6.

/// The OCI architecture (with variant, if the OCI spec uses one) for a Rust
/// target, from cargo's `CARGO_CFG_TARGET_ARCH`, `CARGO_CFG_TARGET_ENDIAN`
/// and `TARGET` values. Unknown architectures are reported under their Rust
/// name, so the output stays truthful rather than guessed.
pub fn oci_arch(target_arch: &str, target_endian: &str, triple: &str) -> String {
    let name = match (target_arch, target_endian) {
        ("x86_64", _) => "amd64",
        ("x86", _) => "386",
        ("aarch64", "little") => "arm64",
        ("arm", _) => return arm_with_variant(triple),
        ("powerpc64", "little") => "ppc64le",
        ("powerpc64", "big") => "ppc64",
        ("s390x", _) => "s390x",
        ("riscv64", _) => "riscv64",
        (other, _) => other,
    };
    name.to_string()
}

/// OCI names 32-bit arm by ISA version: `arm/v7`, `arm/v6`, `arm/v5`. The
/// version sits in the first field of the triple (`armv7`, `thumbv7neon`,
/// `armv5te`); plain `arm-...` triples are ARMv6 in Rust's target list.
fn arm_with_variant(triple: &str) -> String {
    let cpu = triple.split('-').next().unwrap_or("");
    let isa = cpu
        .strip_prefix("thumb")
        .or_else(|| cpu.strip_prefix("arm"))
        .unwrap_or("");
    let variant = if isa.starts_with("v8") {
        "v8"
    } else if isa.starts_with("v7") {
        "v7"
    } else if isa.starts_with("v5") {
        "v5"
    } else {
        "v6"
    };
    format!("arm/{}", variant)
}

#[cfg(test)]
mod tests {
    use super::oci_arch;

    #[test]
    fn maps_the_workspace_targets_to_oci_names() {
        let cases = [
            ("x86_64", "little", "x86_64-unknown-linux-gnu", "amd64"),
            ("aarch64", "little", "aarch64-unknown-linux-gnu", "arm64"),
            ("arm", "little", "armv7-unknown-linux-gnueabihf", "arm/v7"),
            ("arm", "little", "armv7-unknown-linux-musleabihf", "arm/v7"),
            ("arm", "little", "thumbv7neon-unknown-linux-gnueabihf", "arm/v7"),
            ("arm", "little", "arm-unknown-linux-gnueabihf", "arm/v6"),
            ("arm", "little", "armv5te-unknown-linux-gnueabi", "arm/v5"),
            ("powerpc64", "little", "powerpc64le-unknown-linux-gnu", "ppc64le"),
            ("powerpc64", "big", "powerpc64-unknown-linux-gnu", "ppc64"),
            ("s390x", "big", "s390x-unknown-linux-gnu", "s390x"),
            ("riscv64", "little", "riscv64gc-unknown-linux-gnu", "riscv64"),
        ];
        for (arch, endian, triple, want) in cases {
            assert_eq!(oci_arch(arch, endian, triple), want, "target {}", triple);
        }
    }

    #[test]
    fn reports_unknown_architectures_by_their_rust_name() {
        assert_eq!(oci_arch("mips64", "big", "mips64-unknown-linux-gnuabi64"), "mips64");
    }
}

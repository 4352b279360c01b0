//! Builds the C probe programs (`csrc/*.c`) into `OUT_DIR`, each twice:
//! dynamically linked (`<name>-dyn`) and statically linked (`<name>-static`).
//!
//! `gcc` is invoked directly (no build-dependencies); the directory holding
//! the binaries is exported to the crate as `CORDON_PROBE_DIR`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The C programs, by base name (`csrc/<name>.c`).
const PROGRAMS: &[&str] = &["probe", "escape"];

/// Flags shared by every build.
const CFLAGS: &[&str] = &["-O1", "-Wall", "-Wextra", "-Werror", "-std=gnu11"];

fn compile(src: &Path, out: &Path, statik: bool) {
    let mut cmd = Command::new("gcc");
    cmd.args(CFLAGS);
    if statik {
        cmd.arg("-static");
    }
    cmd.arg("-o").arg(out).arg(src);
    let output = match cmd.output() {
        Ok(output) => output,
        Err(err) => panic!("cannot run gcc ({cmd:?}): {err}"),
    };
    if !output.status.success() {
        panic!(
            "gcc failed ({cmd:?}, {}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn main() {
    let manifest_dir = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
    );
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));

    println!("cargo:rerun-if-changed=build.rs");
    for name in PROGRAMS {
        let src = manifest_dir.join("csrc").join(format!("{name}.c"));
        println!("cargo:rerun-if-changed={}", src.display());
        compile(&src, &out_dir.join(format!("{name}-dyn")), false);
        compile(&src, &out_dir.join(format!("{name}-static")), true);
    }
    println!("cargo:rustc-env=CORDON_PROBE_DIR={}", out_dir.display());
}

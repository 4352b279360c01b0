//! Builds `csrc/` into `$OUT_DIR/libcordon_preload.so` with the C compiler
//! that the `cc` crate detects (honouring `CC` and the target), called
//! directly: `cc::Build` makes static archives, and the shim is a shared
//! object.

use std::path::{Path, PathBuf};
use std::process::Command;

const FLAGS: &[&str] = &[
    "-O2",
    "-fPIC",
    "-shared",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fvisibility=hidden",
    "-std=gnu11",
];

fn main() {
    let csrc = Path::new("csrc");
    println!("cargo:rerun-if-changed=csrc");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(csrc)
        .expect("read csrc")
        .map(|e| e.expect("read csrc entry").path())
        .collect();
    sources.sort();
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
    }
    let c_files: Vec<&PathBuf> = sources
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let so = out.join("libcordon_preload.so");
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .get_compiler();
    let mut cmd = Command::new(compiler.path());
    cmd.args(FLAGS);
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        // The fast path's stub is reached with a `call` from inline assembly, whose return
        // address must not land on a leaf function's red zone.
        cmd.arg("-mno-red-zone");
    }
    cmd.arg(format!(
        "-Wl,--version-script={}",
        csrc.join("exports.map").display()
    ))
    .arg("-o")
    .arg(&so)
    .args(&c_files)
    .arg("-ldl");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", compiler.path().display()));
    assert!(
        status.success(),
        "building the preload shim failed: {cmd:?}"
    );
}

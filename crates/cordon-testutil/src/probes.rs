//! Paths of the C probe programs built by `build.rs` from `csrc/`.
//!
//! * `probe OP PATH [OP PATH ...]` performs scripted filesystem accesses and
//!   prints one `OP PATH RESULT` line per pair, where `RESULT` is `ok` or the
//!   symbolic errno name (`ENOENT`, `EACCES`, ...); `ls` and `content` print
//!   the sorted comma-joined listing / the first line instead of `ok`. Exit
//!   status 0 (2 on a usage error).
//! * `escape HIDDEN WRITABLE_DIR` tries every known route to `HIDDEN` and
//!   prints one `route NAME REACHED`, `route NAME blocked ERRNO` or
//!   `route NAME unsupported ERRNO` line per route. Exit status 1 if any
//!   route reached `HIDDEN`, 0 otherwise (2 on a usage error).
//!
//! Each program exists dynamically linked against glibc and statically
//! linked, so tests can cover both a view with and without the dynamic
//! loader and shared libraries.

use std::path::PathBuf;

/// Directory holding the probe binaries (cargo's `OUT_DIR` of this crate).
const PROBE_DIR: &str = env!("CORDON_PROBE_DIR");

fn probe_path(name: &str) -> PathBuf {
    PathBuf::from(PROBE_DIR).join(name)
}

/// Dynamically linked `probe` (scripted accesses, one result line each).
pub fn probe_dynamic() -> PathBuf {
    probe_path("probe-dyn")
}

/// Statically linked `probe` (scripted accesses, one result line each).
pub fn probe_static() -> PathBuf {
    probe_path("probe-static")
}

/// Dynamically linked `escape` (every route to a hidden path).
pub fn escape_dynamic() -> PathBuf {
    probe_path("escape-dyn")
}

/// Statically linked `escape` (every route to a hidden path).
pub fn escape_static() -> PathBuf {
    probe_path("escape-static")
}

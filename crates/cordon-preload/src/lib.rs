//! The preload backend's shim: a C library loaded with `LD_PRELOAD` that shows a program the
//! file system the rules describe, and the Rust side of its two files.
//!
//! # Overview
//! [`SHIM`] is the shared object, built from `csrc/` by `build.rs`. The caller writes it to a
//! file, writes the rules with [`encode`], and runs the command with:
//!
//! - `LD_PRELOAD` = the shim's path;
//! - `CORDON_PRELOAD_RULES` = the rules file;
//! - `CORDON_PRELOAD_GAPS` = a file the shim appends one line to per thing it could not follow
//!   (read it back with [`parse_gaps`]);
//! - `CORDON_PRELOAD_STRICT=1` to refuse static executables (EACCES) instead of letting them run.
//!
//! # Process model
//! The shim runs inside every dynamic process of the command: it reads the rules once in its
//! constructor, and each hook turns the program's path into an absolute canonical path (resolving
//! symlinks one component at a time through the rules), then refuses it (hide: ENOENT, deny:
//! EACCES, a write under ro: EROFS) or calls the real function with the host path. The exec
//! wrappers put the variables above back into an environment that lost them (`env -i`).
//!
//! # Enforces
//! Nothing against a hostile program: it is advisory, a raw syscall goes around it.
//!
//! # Observes
//! Opens, stats, access checks, directory opens, links, cwd, changes to the file system, execs
//! and dlopens made through glibc's public functions.
//!
//! # Requires
//! Linux, glibc (LP64: x86_64 or aarch64), dynamic executables.
//!
//! # Gaps
//! Static executables (recorded in the gaps file), the dynamic loader's own opens, bare-name
//! `dlopen` searches (recorded), listings through `scandir` or raw `getdents64` (`readdir`
//! leaves hidden entries out), calls glibc makes internally (`system`, `popen` run `/bin/sh` from `environ` as is), a script's
//! `#!` interpreter, `fexecve`/`execveat`, and paths in `posix_spawn_file_actions_addopen`.
#![forbid(unsafe_code)]

use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// With `CORDON_PRELOAD_FASTPATH=1` the shim maps a `syscall; ret` stub at a fixed address
/// and makes its own path walks' system calls from it; a seccomp filter lets calls whose
/// instruction pointer is this value (the address after the `syscall`) through unnotified.
/// Keep in step with `CP_STUB_ADDR` in `csrc/shim.h`.
pub const FAST_PATH_IP: u64 = 0x7c0d_e000_0000 + 2;

/// The shim, `libcordon_preload.so`, built for this target.
pub const SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libcordon_preload.so"));

/// What a rule lets the program do under its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read-only: writes fail with EROFS.
    Ro,
    /// Read-write.
    Rw,
    /// Absent: ENOENT, even inside a visible directory.
    Hide,
    /// Present but refused: EACCES.
    Deny,
}

impl Access {
    fn word(self) -> &'static str {
        match self {
            Access::Ro => "ro",
            Access::Rw => "rw",
            Access::Hide => "hide",
            Access::Deny => "deny",
        }
    }
}

/// One rule: the longest matching `path` prefix (by whole components) decides a path's access;
/// a path no rule matches is hidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What the program may do there.
    pub access: Access,
    /// The path as the program sees it.
    pub path: PathBuf,
    /// Where it really is: `path` itself unless redirected.
    pub host: PathBuf,
}

impl Rule {
    /// A rule for `path` at its own place.
    pub fn new(access: Access, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Rule {
            access,
            host: path.clone(),
            path,
        }
    }

    /// A rule showing `host`'s content at `path`.
    pub fn redirect(access: Access, path: impl Into<PathBuf>, host: impl Into<PathBuf>) -> Self {
        Rule {
            access,
            path: path.into(),
            host: host.into(),
        }
    }
}

/// Why a rule cannot be written to the rules file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// The shim matches absolute paths only.
    #[error("rule path is not absolute: {0}")]
    NotAbsolute(PathBuf),
    /// A tab, newline or NUL would break the line format.
    #[error("rule path contains a tab, newline or NUL: {0:?}")]
    BadByte(PathBuf),
    /// `..` cannot be folded without the file system; the shim matches canonical paths.
    #[error("rule path contains `..`: {0}")]
    ParentDir(PathBuf),
}

/// The rules file: one rule per line, `ro|rw|hide|deny TAB path TAB host LF`, each path
/// absolute and lexically normalised (repeated slashes, `.` and a trailing slash removed).
pub fn encode(rules: &[Rule]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    for rule in rules {
        let path = normalise(&rule.path)?;
        let host = normalise(&rule.host)?;
        out.extend_from_slice(rule.access.word().as_bytes());
        out.push(b'\t');
        out.extend_from_slice(path.as_os_str().as_bytes());
        out.push(b'\t');
        out.extend_from_slice(host.as_os_str().as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

fn normalise(path: &Path) -> Result<PathBuf, EncodeError> {
    if path
        .as_os_str()
        .as_bytes()
        .iter()
        .any(|b| matches!(b, b'\t' | b'\n' | 0))
    {
        return Err(EncodeError::BadByte(path.to_path_buf()));
    }
    if !path.is_absolute() {
        return Err(EncodeError::NotAbsolute(path.to_path_buf()));
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => out.push(name),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(EncodeError::ParentDir(path.to_path_buf()))
            }
        }
    }
    Ok(out)
}

/// One line of the gaps file: something the shim could not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// A static executable was run (or refused, under `CORDON_PRELOAD_STRICT=1`): its accesses
    /// are not seen.
    Static(PathBuf),
    /// `dlopen` of a bare name: the loader's search is not seen.
    DlopenUnresolved(PathBuf),
    /// The shim could not load its rules and hid everything.
    Error(String),
    /// A kind this version does not know, kept as written.
    Other {
        /// The first field.
        kind: String,
        /// The second field, unescaped.
        detail: PathBuf,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::Static(p) => write!(f, "static executable {}", p.display()),
            Gap::DlopenUnresolved(p) => write!(f, "dlopen by name {}", p.display()),
            Gap::Error(e) => write!(f, "shim error: {e}"),
            Gap::Other { kind, detail } => write!(f, "{kind} {}", detail.display()),
        }
    }
}

/// Reads the gaps file: `kind TAB detail LF` per line, with `\t`, `\n` and `\\` escaped in the
/// detail. Lines without a tab (a write cut short) are skipped.
pub fn parse_gaps(data: &[u8]) -> Vec<Gap> {
    use std::ffi::OsStr;
    data.split(|&b| b == b'\n')
        .filter_map(|line| {
            let tab = line.iter().position(|&b| b == b'\t')?;
            let kind = String::from_utf8_lossy(&line[..tab]).into_owned();
            let detail = unescape(&line[tab + 1..]);
            let path = PathBuf::from(OsStr::from_bytes(&detail));
            Some(match kind.as_str() {
                "static" => Gap::Static(path),
                "dlopen-unresolved" => Gap::DlopenUnresolved(path),
                "error" => Gap::Error(String::from_utf8_lossy(&detail).into_owned()),
                _ => Gap::Other { kind, detail: path },
            })
        })
        .collect()
}

fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b't') => out.push(b'\t'),
            Some(b'n') => out.push(b'\n'),
            Some(&c) => out.push(c),
            None => out.push(b'\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_one_line_per_rule_normalised() {
        let rules = [
            Rule::new(Access::Ro, "/"),
            Rule::new(Access::Hide, "/home/u/.gitconfig"),
            Rule::redirect(Access::Rw, "//a/./x/", "/b/y"),
            Rule::new(Access::Deny, "/etc/shadow"),
        ];
        let text = encode(&rules).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "ro\t/\t/\nhide\t/home/u/.gitconfig\t/home/u/.gitconfig\nrw\t/a/x\t/b/y\n\
             deny\t/etc/shadow\t/etc/shadow\n"
        );
    }

    #[test]
    fn rejects_what_the_format_cannot_carry() {
        let bad = |p: &str| encode(&[Rule::new(Access::Ro, p)]).unwrap_err();
        assert_eq!(bad("rel/x"), EncodeError::NotAbsolute("rel/x".into()));
        assert_eq!(bad("/a\tb"), EncodeError::BadByte("/a\tb".into()));
        assert_eq!(bad("/a\nb"), EncodeError::BadByte("/a\nb".into()));
        assert_eq!(bad("/a/../b"), EncodeError::ParentDir("/a/../b".into()));
        let host = Rule::redirect(Access::Ro, "/a", "b");
        assert_eq!(
            encode(&[host]).unwrap_err(),
            EncodeError::NotAbsolute("b".into())
        );
    }

    #[test]
    fn parses_gap_lines_and_unescapes() {
        let gaps = parse_gaps(b"static\t/bin/busy\\tbox\ndlopen-unresolved\tlibz.so.1\ncut");
        assert_eq!(
            gaps,
            [
                Gap::Static("/bin/busy\tbox".into()),
                Gap::DlopenUnresolved("libz.so.1".into())
            ]
        );
    }

    #[test]
    fn shim_is_a_shared_object() {
        assert_eq!(&SHIM[..4], b"\x7fELF");
    }
}

//! The preload backend: the C shim (`cordon-preload`), loaded into every dynamic program with
//! LD_PRELOAD, walks each path a libc file function is given through the view and answers
//! ENOENT, EACCES or EROFS, or calls the real function with the path rewritten, as fakechroot
//! does.
//!
//! # Enforces
//! Nothing against a hostile build: a raw system call, a static binary or the dynamic
//! loader's own opens go past the shim. Pair it with Landlock (`landlock+preload`) for a
//! guarantee.
//!
//! # Observes
//! The static executables and by-name dlopens it could not follow, reported after the run.
//!
//! # Requires
//! Dynamically linked programs with glibc (64-bit); any kernel, no privilege.
//!
//! # Gaps
//! - Static executables run outside the view: each one is reported (`CORDON_PRELOAD_STRICT=1`
//!   refuses them instead).
//! - `readdir` leaves hidden names out, but `scandir` and raw getdents do not; the loader's
//!   own library search, a script's
//!   `#!` interpreter, `system()`/`popen()`'s environment and the calls it does not wrap
//!   (xattrs, statfs, mkstemp's internals) are not checked.

use std::path::{Path, PathBuf};

use crate::view::{Access, View};

pub use cordon_preload::FAST_PATH_IP;

/// Files of the preload run: the shim and its rules, written into the private directory.
#[derive(Debug)]
pub struct Setup {
    /// Variables to add to the command's environment.
    pub env: Vec<(String, PathBuf)>,
    /// The file the shim appends its gaps to.
    pub gaps: PathBuf,
}

/// Why the preload backend cannot show `view`.
#[derive(Debug, thiserror::Error)]
pub enum PreloadError {
    #[error("the preload backend cannot show this path: {0}")]
    Encode(#[from] cordon_preload::EncodeError),
    #[error(
        "the shim cannot be loaded from {0}: its file system is mounted noexec; set TMPDIR to \
         a directory where programs may run"
    )]
    Noexec(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Write the shim and the rules for `view` into `dir`.
pub fn setup(view: &View, dir: &Path) -> Result<Setup, PreloadError> {
    use cordon_preload::{Access as A, Rule};
    let rules: Vec<Rule> = view
        .entries
        .iter()
        .map(|e| {
            let access = match e.access {
                // The shim follows the link itself and checks where it lands.
                Access::Ro | Access::Link => A::Ro,
                Access::Rw => A::Rw,
                Access::Hide => A::Hide,
                Access::Deny => A::Deny,
            };
            Rule::redirect(access, &e.path, &e.host)
        })
        .collect();
    let text = cordon_preload::encode(&rules)?;
    // The loader maps the shim executable: on a noexec file system it would print a warning
    // and run the program without it, outside the view.
    if cordon_sys::hostfs::is_noexec(dir).unwrap_or(false) {
        return Err(PreloadError::Noexec(dir.display().to_string()));
    }
    let write = |name: &str, data: &[u8]| -> Result<PathBuf, PreloadError> {
        let path = dir.join(name);
        std::fs::write(&path, data).map_err(|source| PreloadError::Write {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    };
    let shim = write("libcordon_preload.so", cordon_preload::SHIM)?;
    let rules = write("preload.rules", &text)?;
    let gaps = write("preload.gaps", b"")?;
    Ok(Setup {
        env: vec![
            ("CORDON_PRELOAD_RULES".into(), rules),
            ("CORDON_PRELOAD_GAPS".into(), gaps.clone()),
            ("LD_PRELOAD".into(), shim),
        ],
        gaps,
    })
}

/// The command's exec candidates as the shim would see them: hidden ones left out (so that a
/// hidden command is not found), the others where the view shows them from.
pub fn command_candidates(view: &View, spec: &cordon_sys::direct::DirectSpec) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let cwd = Path::new(std::ffi::OsStr::from_bytes(spec.cwd.to_bytes()));
    spec.exec_candidates
        .iter()
        .filter_map(|c| {
            let p = Path::new(std::ffi::OsStr::from_bytes(c.to_bytes()));
            let abs = cwd.join(p);
            match view.resolve(&abs, true, std::process::id() as i32) {
                crate::view::Resolved::Allowed {
                    host, moved: true, ..
                } => Some(host),
                crate::view::Resolved::Allowed { .. } | crate::view::Resolved::Denied => {
                    Some(p.to_path_buf())
                }
                crate::view::Resolved::Hidden | crate::view::Resolved::Loop => None,
            }
        })
        .collect()
}

/// Note the command itself as a gap when it is a static executable: cordon starts it, not a
/// process with the shim, so the shim's exec wrappers never see it.
pub fn note_command(setup: &Setup, candidates: &[PathBuf]) {
    use std::io::Write as _;
    let Some(exe) = candidates.iter().find(|p| p.is_file()) else {
        return;
    };
    if is_static(exe) {
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&setup.gaps) {
            let mut line = b"static\t".to_vec();
            line.extend_from_slice(std::os::unix::ffi::OsStrExt::as_bytes(exe.as_os_str()));
            line.push(b'\n');
            let _ = f.write_all(&line);
        }
    }
}

/// Whether `exe` is an ELF file without a program interpreter (PT_INTERP): a static
/// executable, which LD_PRELOAD cannot enter.
pub fn is_static(exe: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    // The ELF header, then the program headers only: never the whole binary.
    let Ok(f) = std::fs::File::open(exe) else {
        return false;
    };
    let mut eh = [0u8; 64];
    if f.read_exact_at(&mut eh, 0).is_err() {
        return false;
    }
    // 64-bit little-endian ELF only (the shim's own platforms).
    if eh[..6] != [0x7f, b'E', b'L', b'F', 2, 1] {
        return false;
    }
    let phoff = u64::from_le_bytes(eh[0x20..0x28].try_into().unwrap_or([0; 8]));
    let phentsize = u16::from_le_bytes([eh[0x36], eh[0x37]]) as usize;
    let phnum = u16::from_le_bytes([eh[0x38], eh[0x39]]) as usize;
    if phentsize < 4 {
        return false;
    }
    let mut ph = vec![0u8; phentsize * phnum];
    if f.read_exact_at(&mut ph, phoff).is_err() {
        return false;
    }
    const PT_INTERP: u32 = 3;
    !ph.chunks(phentsize)
        .any(|h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) == PT_INTERP)
}

/// What the shim could not follow during the run, one line each.
pub fn gaps(setup: &Setup) -> Vec<String> {
    let data = std::fs::read(&setup.gaps).unwrap_or_default();
    let mut out: Vec<String> = cordon_preload::parse_gaps(&data)
        .into_iter()
        .map(|g| g.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_is_told_from_dynamic_by_the_program_headers() {
        // This test binary is dynamic; /bin/sh too.
        assert!(!is_static(&std::env::current_exe().unwrap()));
        assert!(!is_static(Path::new("/bin/sh")));
        // Not ELF, or missing: not a static executable either.
        assert!(!is_static(Path::new("/etc/hostname")));
        assert!(!is_static(Path::new("/no/such/file")));
    }
}

//! Backends that run the command on the host's own mounts, without namespaces: what they share
//! is the [`View`], a private directory for the run, and the launch spec.

pub mod landlock;
pub mod preload;
#[cfg(target_arch = "x86_64")]
pub mod ptrace;
#[cfg(target_arch = "x86_64")]
pub mod seccomp;

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub use cordon_sys::direct::{launch, DirectSpec};

use crate::plan::{c_command, Context, PlanError};
use crate::policy::Policy;
use crate::view::{Mode, View, ViewError};

/// Why a direct backend cannot prepare a run.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    View(#[from] ViewError),
    #[error("cannot create the run's private directory {path}: {source}")]
    Private {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a path or variable contains a NUL byte: {0}")]
    Nul(String),
    #[error("no command given")]
    NoCommand,
}

/// A directory that only this run uses (fresh home, private tmp, empty files), removed when
/// dropped.
#[derive(Debug)]
pub struct PrivateDir {
    pub path: PathBuf,
}

impl PrivateDir {
    /// A new directory, mode 0700, under $TMPDIR or /tmp.
    pub fn create() -> Result<PrivateDir, PrepareError> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::var_os("TMPDIR")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        remove_stale(&base);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = base.join(format!(".cordon-{}-{nanos:08x}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|source| PrepareError::Private {
                path: path.display().to_string(),
                source,
            })?;
        Ok(PrivateDir {
            path: crate::plan::canonical(&path),
        })
    }
}

/// Remove the private directories of runs whose cordon is gone (killed before it could clean
/// up): `.cordon-PID-*` with no process PID, owned by this user.
fn remove_stale(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(dir) = std::fs::read_dir(base) else {
        return;
    };
    let me = cordon_sys::probe::euid();
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(".cordon-"))
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let mine = e.metadata().map(|m| m.uid() == me).unwrap_or(false);
        if mine && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A run prepared for a direct backend.
#[derive(Debug)]
pub struct Prepared {
    pub view: View,
    pub spec: DirectSpec,
    pub private: PrivateDir,
}

/// Compile `policy` into a view for a backend in `mode`, create the private directory and
/// its contents, and resolve the command.
pub fn prepare(policy: &Policy, ctx: &Context, mode: Mode) -> Result<Prepared, PrepareError> {
    let private = PrivateDir::create()?;
    let view = View::compile(policy, ctx.home.as_deref(), &private.path, mode)?;
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PrepareError + '_ {
        move |source| PrepareError::Private {
            path: path.display().to_string(),
            source,
        }
    }
    for d in &view.make_dirs {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    for f in &view.make_files {
        std::fs::write(f, b"").map_err(io(f))?;
    }
    let mut envp: Vec<(OsString, OsString)> = ctx
        .envp
        .iter()
        .filter(|(k, _)| !view.env.iter().any(|(name, _)| k == name.as_str()))
        .cloned()
        .collect();
    for (name, value) in &view.env {
        envp.push((name.into(), value.clone().into_os_string()));
    }
    let mut view = view;
    if mode == Mode::Fixed {
        drop_unreachable_path_entries(&mut view, &mut envp);
    }
    let spec = spec_for(ctx, &envp, !policy.network)?;
    Ok(Prepared {
        view,
        spec,
        private,
    })
}

impl Prepared {
    /// Set `name` in the command's environment; `prepend` puts `value` before an existing
    /// value with a `:` (as LD_PRELOAD takes a list).
    pub fn set_env(
        &mut self,
        name: &str,
        value: &OsStr,
        prepend: bool,
    ) -> Result<(), PrepareError> {
        let prefix = format!("{name}=");
        let old = self
            .spec
            .envp
            .iter()
            .position(|kv| kv.as_bytes().starts_with(prefix.as_bytes()));
        let mut kv = prefix.into_bytes();
        kv.extend_from_slice(value.as_bytes());
        if let (Some(i), true) = (old, prepend) {
            let rest = &self.spec.envp[i].as_bytes()[name.len() + 1..];
            if !rest.is_empty() {
                kv.push(b':');
                kv.extend_from_slice(rest);
            }
        }
        let kv = cstr(OsStr::from_bytes(&kv))?;
        match old {
            Some(i) => self.spec.envp[i] = kv,
            None => self.spec.envp.push(kv),
        }
        Ok(())
    }
}

/// Where hidden means unreadable (Landlock alone), a PATH entry in a hidden directory (say
/// `~/.pyenv/shims` behind a fresh home) still looks executable to a PATH search by stat or
/// access, which Landlock does not mediate, and then fails to run, or is recorded by tools
/// such as Python's venv. Such entries are removed from PATH, and the run says so.
fn drop_unreachable_path_entries(view: &mut View, envp: &mut [(OsString, OsString)]) {
    use crate::view::Resolved;
    let Some((_, path)) = envp.iter_mut().find(|(k, _)| k == "PATH") else {
        return;
    };
    let me = std::process::id() as i32;
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for entry in path.as_bytes().split(|&b| b == b':') {
        let p = Path::new(OsStr::from_bytes(entry));
        let unreachable = p.is_absolute()
            && matches!(
                view.resolve(p, true, me),
                Resolved::Hidden | Resolved::Denied
            );
        if unreachable {
            dropped.push(p.display().to_string());
        } else {
            kept.push(entry);
        }
    }
    if dropped.is_empty() {
        return;
    }
    *path = OsString::from(OsStr::from_bytes(&kept.join(&b':')));
    view.degraded.push(format!(
        "PATH: removed entries that hide makes unreadable: {}",
        dropped.join(", ")
    ));
}

fn cstr(s: &OsStr) -> Result<CString, PrepareError> {
    CString::new(s.as_bytes()).map_err(|_| PrepareError::Nul(s.to_string_lossy().into()))
}

fn spec_for(
    ctx: &Context,
    envp: &[(OsString, OsString)],
    no_network: bool,
) -> Result<DirectSpec, PrepareError> {
    let c = c_command(&ctx.argv, envp).map_err(|e| match e {
        PlanError::Nul(s) => PrepareError::Nul(s),
        // c_command fails only with those two.
        _ => PrepareError::NoCommand,
    })?;
    Ok(DirectSpec {
        cwd: cstr(ctx.cwd.as_os_str())?,
        exec_candidates: c.exec_candidates,
        argv: c.argv,
        envp: c.envp,
        confine_namespaces: true,
        no_network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_private_directories_of_dead_runs_are_removed() {
        let t = tempfile::tempdir().unwrap();
        // pid_max is at most 2^22: this pid cannot exist.
        let dead = t.path().join(".cordon-99999999-1234abcd");
        let live = t
            .path()
            .join(format!(".cordon-{}-1234abcd", std::process::id()));
        let other = t.path().join("unrelated");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("1-home")).unwrap();
        }
        remove_stale(t.path());
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
    }
}

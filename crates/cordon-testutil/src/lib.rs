//! Test-only helpers for cordon: probe programs, fixture worlds, running as another user.
//!
//! Setup outside, check inside: a test builds a [`World`] (files in a world-readable
//! directory), runs cordon on a probe as [`User::Root`] and as [`User::Nobody`], and checks
//! what the probe could reach. Every scenario runs for both users from one body
//! ([`as_each_user!`]).
#![forbid(unsafe_code)]

pub mod probes;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Who runs cordon in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// The test process itself, when it is root.
    Root,
    /// uid/gid 65534 with no supplementary groups, via `setpriv` (needs the tests to run as
    /// root); when the tests run unprivileged already, the test process itself.
    Nobody,
}

/// Whether the test process is root.
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Skip locally, fail in CI (bubblewrap's must-work convention): when `ok` is false, print
/// `SKIP: reason` and return false, unless `CI` is set, then panic.
pub fn require(ok: bool, reason: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("required in CI: {reason}");
    }
    eprintln!("SKIP: {reason}");
    false
}

/// A directory of fixtures for one test: world-readable, under /tmp, removed on drop.
/// `bin/` holds copies of cordon and the probes that any user can run; `work/` is the
/// working directory; `home/` is HOME.
pub struct World {
    dir: tempfile::TempDir,
    user: User,
    bin: &'static Path,
    /// Run commands inside a user namespace whose max_user_namespaces is 0, with every
    /// capability dropped and no_new_privs set: a machine without user namespaces, simulated.
    no_userns: std::cell::Cell<bool>,
    /// The backend `cordon run` uses (through CORDON_BACKEND); None: auto.
    backend: Option<&'static str>,
}

/// One world-readable copy of cordon and the probes per test process, made before any test
/// spawns a process: copying a binary while another thread forks leaves the child holding the
/// file open for writing, and executing it then fails with ETXTBSY.
fn shared_bin(cordon: &Path) -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        // Remove what earlier, finished test processes left behind.
        if let Ok(rd) = fs::read_dir("/tmp") {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("cordon-test-bin-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir = PathBuf::from(format!("/tmp/cordon-test-bin-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        for (from, name) in [
            (cordon.to_path_buf(), "cordon"),
            (probes::probe_dynamic(), "probe-dyn"),
            (probes::probe_static(), "probe-static"),
            (probes::escape_dynamic(), "escape-dyn"),
            (probes::escape_static(), "escape-static"),
        ] {
            let to = dir.join(name);
            fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    })
}

impl World {
    /// A new world for `user`.
    pub fn new(cordon: &Path, user: User) -> World {
        let dir = tempfile::Builder::new()
            .prefix("cordon-test-")
            .tempdir_in("/tmp")
            .expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let w = World {
            dir,
            user,
            bin: shared_bin(cordon),
            no_userns: std::cell::Cell::new(false),
            backend: None,
        };
        for d in ["work", "home"] {
            w.mkdir(d);
        }
        w
    }

    pub fn user(&self) -> User {
        self.user
    }

    /// The backend this world's `cordon run` uses; None means auto.
    pub fn backend(&self) -> Option<&'static str> {
        self.backend
    }

    /// Whether this world's backend makes hidden paths absent (ENOENT); Landlock alone only
    /// makes them unreadable (EACCES).
    pub fn hides(&self) -> bool {
        self.backend != Some("landlock")
    }

    /// The errno text a hidden path fails with under this world's backend.
    /// Whether this world's backend can show a private directory or other content at a
    /// path (a private /tmp, a fresh HOME at the home's path, redirect, empty).
    pub fn rewrites(&self) -> bool {
        matches!(
            self.backend,
            None | Some(
                "namespace" | "ptrace" | "preload" | "landlock+ptrace" | "landlock+preload"
            )
        )
    }

    pub fn hidden_error(&self) -> &'static str {
        if self.hides() {
            "No such file or directory"
        } else {
            "Permission denied"
        }
    }

    /// From now on, run every command as on a machine without user namespaces (simulated
    /// inside a user namespace whose `max_user_namespaces` is 0).
    pub fn without_user_namespaces(&self) {
        self.no_userns.set(true);
    }

    /// Whether commands run as on a machine without user namespaces.
    pub fn lacks_user_namespaces(&self) -> bool {
        self.no_userns.get()
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A binary of the shared, world-readable bin directory.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// The shared bin directory.
    pub fn bin_dir(&self) -> &Path {
        self.bin
    }

    pub fn work(&self) -> PathBuf {
        self.path("work")
    }

    pub fn home(&self) -> PathBuf {
        self.path("home")
    }

    /// Create a directory (and parents) owned by the world's user.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(&p).unwrap();
        self.give(&p);
        p
    }

    /// Ten more files in `rel_dir`: enough entries that a read-only mirror of the directory
    /// is one overlay (directories of at most 8 are mirrored with binds), so that a test
    /// covers the overlay path.
    pub fn crowd(&self, rel_dir: &str) {
        for i in 0..10 {
            self.write(&format!("{rel_dir}/filler{i}"), "f\n");
        }
    }

    /// Write a file (parents created), owned by the world's user.
    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&p, contents).unwrap();
        let mut q = p.clone();
        while q != self.root() {
            self.give(&q);
            q = q.parent().unwrap().to_path_buf();
        }
        p
    }

    /// Write an executable script.
    pub fn script(&self, rel: &str, contents: &str) -> PathBuf {
        let p = self.write(rel, contents);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn give(&self, p: &Path) {
        if self.user == User::Nobody && is_root() {
            std::os::unix::fs::lchown(p, Some(65534), Some(65534)).unwrap();
        }
    }

    /// A command run as the world's user, with a small clean environment: PATH, HOME (the
    /// world's home), LANG, and the working directory `work/`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut prefix: Vec<&OsStr> = Vec::new();
        if self.user == User::Nobody && is_root() {
            prefix.extend(
                [
                    "setpriv",
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    "--",
                ]
                .map(OsStr::new),
            );
        }
        if self.no_userns.get() {
            prefix.extend(
                [
                    "unshare",
                    "--user",
                    "--map-root-user",
                    "/bin/sh",
                    "-c",
                    "echo 0 > /proc/sys/user/max_user_namespaces && \
                     exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all \"$@\"",
                    "sh",
                ]
                .map(OsStr::new),
            );
        }
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(program.as_ref());
                c
            }
            None => Command::new(program.as_ref()),
        };
        cmd.env_clear();
        if let Some(b) = self.backend {
            cmd.env("CORDON_BACKEND", b);
        }
        cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", self.home())
            .env("LANG", "C.UTF-8")
            .current_dir(self.work());
        cmd
    }

    /// `cordon ARGS...` as the world's user.
    pub fn cordon<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = self.command(self.bin("cordon"));
        c.args(args);
        c
    }

    /// `cordon run --ro BIN EXTRA... -- COMMAND...`: the default `build` profile with the
    /// world's binaries visible.
    pub fn run_in_sandbox(&self, extra: &[&str], command: &[&str]) -> Output {
        self.run_in_sandbox_env(extra, command, &[])
    }

    /// [`World::run_in_sandbox`] with extra environment variables for cordon.
    pub fn run_in_sandbox_env(
        &self,
        extra: &[&str],
        command: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut args: Vec<&OsStr> =
            vec![OsStr::new("run"), OsStr::new("--ro"), self.bin.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        args.push(OsStr::new("--"));
        args.extend(command.iter().map(OsStr::new));
        let mut c = self.cordon(args);
        c.envs(env.iter().copied());
        output(c)
    }
}

/// Run a command and capture its output, with a timeout so that a hung sandbox fails the
/// test instead of hanging it.
pub fn output(mut cmd: Command) -> Output {
    let mut t = Command::new("timeout");
    t.arg("-k").arg("5").arg("120").arg(cmd.get_program());
    t.args(cmd.get_args());
    t.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            t.env(k, v);
        }
    }
    if let Some(d) = cmd.get_current_dir() {
        t.current_dir(d);
    }
    let _ = &mut cmd;
    t.output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()))
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A readable summary for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// Run a scenario for one user: as root only when the tests run as root; as nobody via
/// setpriv when root, else as the unprivileged test user itself.
pub fn run_as(user: User, cordon: &str, body: fn(&World)) {
    if user == User::Root && !is_root() {
        require(false, "the root tier needs the tests to run as root");
        return;
    }
    let w = World::new(Path::new(cordon), user);
    body(&w);
}

/// Run a scenario for one user with `cordon run` on one backend; skipped (failing in CI) when
/// the backend cannot run on this machine.
pub fn run_as_with(user: User, backend: &'static str, cordon: &str, body: fn(&World)) {
    if user == User::Root && !is_root() {
        require(false, "the root tier needs the tests to run as root");
        return;
    }
    let mut w = World::new(Path::new(cordon), user);
    w.backend = Some(backend);
    let probe = output(w.cordon(["run", "--", "true"]));
    if !require(
        probe.status.success(),
        &format!("the {backend} backend cannot run here: {}", stderr(&probe)),
    ) {
        return;
    }
    body(&w);
}

/// Expand one scenario into a test per backend and user: `NAME::BACKEND::root` and
/// `NAME::BACKEND::nobody`. The body asks [`World::backend`] and [`World::hides`] where the
/// backends' guarantees differ.
#[macro_export]
macro_rules! as_each_backend {
    ($(#[$meta:meta])* fn $name:ident($w:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($w: &$crate::World) $body
            $crate::as_each_backend!(@one body namespace "namespace");
            $crate::as_each_backend!(@one body landlock "landlock");
            $crate::as_each_backend!(@one body ptrace "ptrace");
            $crate::as_each_backend!(@one body seccomp "seccomp");
            $crate::as_each_backend!(@one body preload "preload");
            $crate::as_each_backend!(@one body landlock_ptrace "landlock+ptrace");
            $crate::as_each_backend!(@one body landlock_seccomp "landlock+seccomp");
        }
    };
    (@one $body:ident $module:ident $backend:literal) => {
        mod $module {
            #[test]
            fn root() {
                $crate::run_as_with(
                    $crate::User::Root, $backend, env!("CARGO_BIN_EXE_cordon"), super::$body);
            }
            #[test]
            fn nobody() {
                $crate::run_as_with(
                    $crate::User::Nobody, $backend, env!("CARGO_BIN_EXE_cordon"), super::$body);
            }
        }
    };
}

/// Expand one scenario into a test per user: `NAME::root` and `NAME::nobody`.
#[macro_export]
macro_rules! as_each_user {
    ($(#[$meta:meta])* fn $name:ident($w:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($w: &$crate::World) $body
            #[test]
            fn root() {
                $crate::run_as($crate::User::Root, env!("CARGO_BIN_EXE_cordon"), body);
            }
            #[test]
            fn nobody() {
                $crate::run_as($crate::User::Nobody, env!("CARGO_BIN_EXE_cordon"), body);
            }
        }
    };
}

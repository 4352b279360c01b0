//! Launching a command in new namespaces on a root built from a list of mount operations.
//!
//! The caller (cordon-core's namespace backend) compiles a policy into a [`Spec`]: plain data,
//! every path already a C string, so that the init process can execute it without allocating.
//! [`launch`] runs it and returns how the command ended.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, Pid};

use crate::child;
use crate::error::SysError;

/// The staging directory of the init: a tmpfs is mounted there (inside the new mount namespace
/// only) and becomes the root while the sandbox's root is assembled under [`NEWROOT`].
pub const STAGING: &str = "/tmp";
/// Where the sandbox's root is assembled, as seen by the init after the first `pivot_root`.
pub const NEWROOT: &str = "/newroot";
/// Where the host's root is, as seen by the init after the first `pivot_root`.
pub const OLDROOT: &str = "/oldroot";

/// One step of building the sandbox's root. Paths are absolute in the init's staging view:
/// sources under [`OLDROOT`], destinations under [`NEWROOT`] (or the staging root itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOp {
    /// `mkdir -p` a directory on a tmpfs the init owns (a mount point, or a mirrored entry).
    Mkdir { path: CString },
    /// Create an empty regular file with `mode` on a tmpfs the init owns.
    Touch { path: CString, mode: u32 },
    /// Create a symbolic link `path -> target`.
    Symlink { target: CString, path: CString },
    /// Bind `src` onto `dst`, with its submounts when `recursive`, read-only when `readonly`.
    /// `submounts` lists the destinations of `src`'s submounts, for kernels without
    /// `mount_setattr` (before 5.12) where each one must be remounted read-only by itself.
    Bind {
        src: CString,
        dst: CString,
        recursive: bool,
        readonly: bool,
        submounts: Vec<CString>,
    },
    /// A new tmpfs on `dst` with the root directory's `mode`.
    Tmpfs { dst: CString, mode: u32 },
    /// A new procfs for the sandbox's pid namespace.
    Proc { dst: CString },
    /// A new devpts instance (its own ptmx).
    Devpts { dst: CString },
    /// Make the mount at `dst` read-only (not its submounts). Used last, for tmpfs that had to
    /// stay writable while mount points were created in them.
    RemountReadonly { dst: CString },
    /// Show a host directory read-only without some entries and with some added, in one
    /// mount: a read-only overlayfs whose top layer (`layer`, on the staging tmpfs) holds a
    /// whiteout for each hidden entry and an empty directory or file for each added one,
    /// above the host directory. `options` is the prepared `lowerdir=LAYER:LOWER`. On success
    /// `then` runs (binds of the host directory's submounts, which overlayfs does not show).
    /// Where overlayfs is refused (before Linux 5.11 in a user namespace) the launch fails
    /// with the call `overlay`, and the caller plans the same view with binds instead.
    Overlay {
        dst: CString,
        layer: CString,
        whiteouts: Vec<CString>,
        dirs: Vec<CString>,
        files: Vec<CString>,
        options: CString,
        then: Vec<MountOp>,
    },
}

/// How to map user and group ids into the sandbox's user namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMap {
    /// Map only the caller's own uid and gid to themselves: what an unprivileged user may do.
    Own,
    /// Map the whole id range to itself (needs CAP_SETUID in the caller's namespace, i.e.
    /// root): file ownership inside looks as it does outside. Falls back to [`IdMap::Own`].
    Identity,
}

/// Everything the init needs, resolved in advance.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Give the command its own network namespace with only a loopback interface.
    pub unshare_net: bool,
    pub id_map: IdMap,
    /// Mount operations, in order.
    pub ops: Vec<MountOp>,
    /// The command's working directory inside the sandbox.
    pub cwd: CString,
    /// Paths to try to execute, in order (the `PATH` search, done in advance).
    pub exec_candidates: Vec<CString>,
    pub argv: Vec<CString>,
    /// `NAME=VALUE` strings.
    pub envp: Vec<CString>,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
}

impl Outcome {
    /// The status a shell would report: the exit status, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            Outcome::Exited(c) => c,
            Outcome::Signaled(s) => 128 + s,
        }
    }
}

/// Why the command could not be started.
#[derive(Debug)]
pub enum LaunchError {
    /// A system call failed before or while building the sandbox.
    Setup(SysError),
    /// No candidate for the command exists in the sandbox.
    NotFound { command: String },
    /// The command exists but could not be executed.
    CannotExecute { path: String, errno: Errno },
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::Setup(e) => write!(f, "cannot set up the sandbox: {e}"),
            LaunchError::NotFound { command } => {
                write!(f, "{command}: command not found in the sandbox")
            }
            LaunchError::CannotExecute { path, errno } => {
                write!(
                    f,
                    "{path}: cannot execute: {}",
                    crate::error::errno_text(*errno)
                )
            }
        }
    }
}

impl std::error::Error for LaunchError {}

/// Signals the supervisor forwards to the init (and the init to the command) when another
/// process sent them with kill(2). Signals the terminal generates reach the command directly,
/// since it stays in the terminal's foreground process group; forwarding those too would deliver
/// them twice. SIGTSTP/SIGTTIN/SIGTTOU are not caught, so job control stops cordon itself.
pub(crate) const FORWARDED: [Signal; 9] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGWINCH,
    Signal::SIGCONT,
];

pub(crate) fn forwarded_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGCHLD);
    set
}

/// The init's ends of [`Pipes`], as plain descriptor numbers: the init may run on the
/// supervisor's memory, where the `OwnedFd`s are moved and dropped.
#[derive(Clone, Copy)]
pub(crate) struct InitFds {
    pub go_read: RawFd,
    pub go_write: RawFd,
    pub err_read: RawFd,
    pub err_write: RawFd,
    pub status_read: RawFd,
    pub status_write: RawFd,
}

/// Pipes shared by the supervisor, the init and the command.
pub(crate) struct Pipes {
    /// The supervisor writes one byte when the id maps are written; EOF means it died.
    pub go_read: OwnedFd,
    pub go_write: OwnedFd,
    /// The init or the command write one [`child::ErrorRecord`] when setup or exec fails; EOF
    /// without a record means the command was executed.
    pub err_read: OwnedFd,
    pub err_write: OwnedFd,
    /// An untraced init writes the command's status (an `i32`) once nothing else of the
    /// sandbox runs, then exits; EOF without it means the init ended otherwise.
    pub status_read: OwnedFd,
    pub status_write: OwnedFd,
}

impl Pipes {
    fn raw(&self) -> InitFds {
        InitFds {
            go_read: self.go_read.as_raw_fd(),
            go_write: self.go_write.as_raw_fd(),
            err_read: self.err_read.as_raw_fd(),
            err_write: self.err_write.as_raw_fd(),
            status_read: self.status_read.as_raw_fd(),
            status_write: self.status_write.as_raw_fd(),
        }
    }
}

/// Trace the sandboxed command (x86_64): the init becomes the tracer of the command's whole
/// process tree and reports to `observer` (its copy, in the init's address space).
#[cfg(target_arch = "x86_64")]
pub struct Tracing<'a> {
    /// System call numbers to stop at.
    pub traced: Vec<i64>,
    /// System calls refused with an errno.
    pub refused: Vec<(i64, u32)>,
    pub observer: &'a mut dyn crate::ptrace::Observer,
}

/// Run `spec` and wait for the command. Must be called from a single-threaded process.
pub fn launch(spec: &Spec) -> Result<Outcome, LaunchError> {
    launch_inner(spec, None)
}

/// Run `spec` with its command traced; see [`Tracing`].
#[cfg(target_arch = "x86_64")]
pub fn launch_traced(spec: &Spec, tracing: Tracing<'_>) -> Result<Outcome, LaunchError> {
    let programs = crate::ptrace::build_filters(&tracing.traced, &tracing.refused)
        .map_err(LaunchError::Setup)?;
    launch_inner(
        spec,
        Some(child::TraceSetup {
            programs: &programs,
            observer: tracing.observer,
        }),
    )
}

fn launch_inner(
    spec: &Spec,
    tracing: Option<child::TraceSetup<'_>>,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str, arg: &str| {
        let arg = arg.to_string();
        move |e: Errno| LaunchError::Setup(SysError::new(call, arg, e))
    };
    ensure_single_threaded().map_err(LaunchError::Setup)?;

    // Block the signals we forward before the clone, so none is lost while the sandbox starts;
    // the init and the command restore the original mask.
    let mut old_mask = SigSet::empty();
    nix::sys::signal::sigprocmask(
        SigmaskHow::SIG_BLOCK,
        Some(&forwarded_set()),
        Some(&mut old_mask),
    )
    .map_err(setup("sigprocmask", ""))?;
    let result = launch_blocked(spec, &old_mask, tracing);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
    result
}

fn launch_blocked(
    spec: &Spec,
    old_mask: &SigSet,
    tracing: Option<child::TraceSetup<'_>>,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let sfd =
        SignalFd::with_flags(&forwarded_set(), SfdFlags::SFD_CLOEXEC).map_err(setup("signalfd"))?;
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
    let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
    let (status_read, status_write) = pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
    let pipes = Pipes {
        go_read,
        go_write,
        err_read,
        err_write,
        status_read,
        status_write,
    };

    let mut flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    if spec.unshare_net {
        flags |= libc::CLONE_NEWNET;
    }
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let exec = child::ExecArrays::new(spec);
    let fds = pipes.raw();
    let clone_failed = |e: Errno| {
        LaunchError::Setup(SysError::new(
            "clone",
            "new user, mount, pid, ipc and uts namespaces",
            e,
        ))
    };

    // An untraced init shares this process's memory instead of copying it: the clone then
    // costs the same however much cordon holds, and neither side takes copy-on-write faults.
    // A traced init is a fork, since its tracer allocates.
    let mut shared = None;
    let init = if tracing.is_none() {
        // SAFETY: this process is single-threaded (checked above). The init only makes system
        // calls on `spec`, `exec`, `old_mask` and its own copy of `fds`, which this process
        // leaves alone until it has reaped the init; `shared` (its stack) lives as long.
        let child = unsafe {
            crate::raw::clone_shared(flags | libc::SIGCHLD, INIT_STACK, move || {
                child::init_main(spec, &fds, old_mask, &exec, None)
            })
        }
        .map_err(clone_failed)?;
        let pid = Pid::from_raw(child.pid);
        shared = Some(child);
        pid
    } else {
        // SAFETY: a raw clone without CLONE_VM or a new stack behaves like fork(2): the child
        // gets a copy of the address space. The process is single-threaded (checked above),
        // so no lock is held by another thread at this point, and the child only runs
        // `child::init_main`, which never returns.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_clone,
                (flags | libc::SIGCHLD) as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        if ret < 0 {
            return Err(clone_failed(Errno::last()));
        }
        if ret == 0 {
            child::init_main(spec, &fds, old_mask, &exec, tracing);
        }
        Pid::from_raw(ret as i32)
    };
    let Pipes {
        go_read,
        go_write,
        err_read,
        err_write,
        status_read,
        status_write,
    } = pipes;
    // The parent's copies of the child's ends: closing them lets EOF mean what it should.
    drop(go_read);
    drop(err_write);
    drop(status_write);
    let ends = SupervisorEnds {
        go_write,
        err_read,
        status_read,
    };
    let outcome = start_and_wait(init, uid, gid, spec, ends, &sfd);
    // The init's stack may go only once the init is reaped. When the status came from the
    // status pipe the init may still be in its last instructions (or the kernel's teardown of
    // its namespaces), so a stack it may still use is left mapped: cordon exits next.
    if let Some(stack) = shared {
        match waitpid(init, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::mem::forget(stack),
            _ => drop(stack),
        }
    }
    outcome
}

/// The supervisor's ends of [`Pipes`].
struct SupervisorEnds {
    go_write: OwnedFd,
    err_read: OwnedFd,
    status_read: OwnedFd,
}

/// The init's stack when it shares cordon's memory: building the root needs a few pages
/// (PATH_MAX buffers), the rest is margin above the guard page.
const INIT_STACK: usize = 256 * 1024;

/// Write the init's id maps, let it go, wait for the command to be executed (or for a
/// record of what failed) and then for it to end: for the status the init reports once
/// nothing of the sandbox runs any more, or else for the init's own exit.
fn start_and_wait(
    init: Pid,
    uid: u32,
    gid: u32,
    spec: &Spec,
    ends: SupervisorEnds,
    sfd: &SignalFd,
) -> Result<Outcome, LaunchError> {
    let SupervisorEnds {
        go_write,
        err_read,
        status_read,
    } = ends;
    let abort = |e: SysError| {
        let _ = kill(init, Signal::SIGKILL);
        let _ = waitpid(init, None);
        Err(LaunchError::Setup(e))
    };
    if let Err(e) = write_id_maps(init, uid, gid, spec.id_map) {
        return abort(e);
    }
    if let Err(e) = nix::unistd::write(go_write.as_fd(), b"g") {
        return abort(SysError::new("write", "", e));
    }
    // From here PR_SET_PDEATHSIG, not this pipe, ties the init to cordon.
    drop(go_write);

    // Wait for the command to be executed, or for a record of what failed.
    let mut buf = [0u8; child::RECORD_LEN];
    let n = read_full(err_read.as_raw_fd(), &mut buf);
    drop(err_read);
    if n == child::RECORD_LEN {
        let _ = wait_init(init, sfd);
        return Err(child::ErrorRecord::decode(&buf).into_error(spec));
    }
    Ok(wait_forwarding(init, sfd, &status_read))
}

/// Read until `buf` is full or EOF; returns the bytes read.
fn read_full(fd: i32, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match nix::unistd::read(fd, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    done
}

fn wait_init(init: Pid, sfd: &SignalFd) -> Outcome {
    let _ = sfd;
    loop {
        match waitpid(init, None) {
            Ok(WaitStatus::Exited(_, c)) => return Outcome::Exited(c),
            Ok(WaitStatus::Signaled(_, s, _)) => return Outcome::Signaled(s as i32),
            Err(Errno::EINTR) | Ok(_) => continue,
            Err(_) => return Outcome::Exited(125),
        }
    }
}

/// Forward signals that other processes send to cordon until the init reports the command's
/// status (128 + N when it died of signal N) or exits. The report comes once the init has
/// killed and reaped what the command left running, before the kernel tears the namespaces
/// down; cordon does not wait for that teardown (bubblewrap's monitor does the same).
fn wait_forwarding(init: Pid, sfd: &SignalFd, status: &OwnedFd) -> Outcome {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = [
            PollFd::new(status.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return wait_init(init, sfd),
        }
        // The status first: the init's exit follows it closely, and its SIGCHLD must not be
        // taken for the end without the status.
        if fds[0].any().unwrap_or(false) {
            let mut buf = [0u8; 4];
            return match read_full(status.as_raw_fd(), &mut buf) {
                4 => Outcome::Exited(i32::from_ne_bytes(buf)),
                _ => wait_init(init, sfd),
            };
        }
        if !fds[1].any().unwrap_or(false) {
            continue;
        }
        let info = match sfd.read_signal() {
            Ok(Some(info)) => info,
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(_) => return wait_init(init, sfd),
        };
        let signo = info.ssi_signo as i32;
        if signo == libc::SIGCHLD {
            continue;
        }
        // si_code <= 0 (SI_USER, SI_QUEUE, SI_TKILL): sent by a process, not by the terminal.
        if info.ssi_code <= 0 {
            if let Ok(sig) = Signal::try_from(signo) {
                let _ = kill(init, sig);
            }
        }
    }
}

fn ensure_single_threaded() -> Result<(), SysError> {
    let tasks = std::fs::read_dir("/proc/self/task")
        .map_err(|e| SysError::new("opendir", "/proc/self/task", io_errno(&e)))?
        .count();
    if tasks > 1 {
        return Err(SysError::new(
            "clone",
            format!("from a process with {tasks} threads"),
            Errno::EINVAL,
        ));
    }
    Ok(())
}

pub(crate) fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// Write `/proc/PID/{setgroups,uid_map,gid_map}` for the init's new user namespace.
fn write_id_maps(pid: Pid, uid: u32, gid: u32, map: IdMap) -> Result<(), SysError> {
    let base = format!("/proc/{}", pid.as_raw());
    let write = |file: &str, text: &str| -> Result<(), SysError> {
        let path = format!("{base}/{file}");
        std::fs::write(&path, text).map_err(|e| SysError::new("write", path, io_errno(&e)))
    };
    // Each map can be written once. Root maps the whole range so that ownership looks the same
    // inside; that fails inside a container whose own namespace maps less, so fall back.
    let full = "0 0 4294967295\n";
    if !(map == IdMap::Identity && write("uid_map", full).is_ok()) {
        write("uid_map", &format!("{uid} {uid} 1\n"))?;
    }
    if !(map == IdMap::Identity && write("gid_map", full).is_ok()) {
        // An unprivileged process may map only its own gid, and only after denying
        // setgroups(2) (user_namespaces(7), since Linux 3.19).
        write("setgroups", "deny\n")?;
        write("gid_map", &format!("{gid} {gid} 1\n"))?;
    }
    Ok(())
}

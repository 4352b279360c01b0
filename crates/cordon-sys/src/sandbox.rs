//! Launching a command in new namespaces on a root built from a list of mount operations.
//!
//! The caller (cordon-core's namespace backend) compiles a policy into a [`Spec`]: plain data,
//! every path already a C string, so that the init process can execute it without allocating.
//! [`launch`] runs it and returns how the command ended.

use std::ffi::CString;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

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
    /// A minimal /dev, as bubblewrap's `--dev`: a private directory with the host's
    /// [`DEV_NODES`] that exist bound into it, a private devpts and shm, and [`DEV_LINKS`].
    /// It stays writable: the plan makes it read-only last, after mount points in it.
    Dev { dst: CString },
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

/// The host's device nodes a minimal /dev shows: harmless to anyone who can open them.
pub const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
/// The symlinks of a minimal /dev, with their targets.
pub const DEV_LINKS: [(&str, &str); 5] = [
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

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
    /// The supervisor writes one byte when the id maps are written, one that says which
    /// [`Prefabs`] to make, and a third when an untraced init's plan is there; EOF means the
    /// supervisor died.
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
    Prelaunch::start(spec.id_map)?.launch(spec)
}

/// Run `spec` with its command traced; see [`Tracing`].
#[cfg(target_arch = "x86_64")]
pub fn launch_traced(spec: &Spec, tracing: Tracing<'_>) -> Result<Outcome, LaunchError> {
    let programs = crate::ptrace::build_filters(&tracing.traced, &tracing.refused)
        .map_err(LaunchError::Setup)?;
    let tracing = child::TraceSetup {
        programs: &programs,
        observer: tracing.observer,
    };
    let (old_mask, sfd, pipes) = prepare()?;
    let result = launch_forked(spec, &old_mask, &sfd, pipes, tracing);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
    result
}

/// The namespaces the init is cloned into: the pid namespace must be, to make it pid 1. The
/// init makes its mount, IPC and UTS namespaces itself (`stage::namespaces`) beside the
/// supervisor, and the network namespace, when the policy wants one, once it has the plan.
const NAMESPACES: libc::c_int = libc::CLONE_NEWUSER | libc::CLONE_NEWPID;

fn clone_failed(e: Errno) -> LaunchError {
    LaunchError::Setup(SysError::new("clone", "new user and pid namespaces", e))
}

/// Check that this process is single-threaded, block the signals to forward (so none is lost
/// while the sandbox starts; the init and the command restore the original mask, returned
/// here), and make the signalfd and pipes.
fn prepare() -> Result<(SigSet, SignalFd, Pipes), LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    ensure_single_threaded().map_err(LaunchError::Setup)?;
    let mut old_mask = SigSet::empty();
    nix::sys::signal::sigprocmask(
        SigmaskHow::SIG_BLOCK,
        Some(&forwarded_set()),
        Some(&mut old_mask),
    )
    .map_err(setup("sigprocmask"))?;
    let made = || -> Result<(SignalFd, Pipes), LaunchError> {
        let sfd = SignalFd::with_flags(&forwarded_set(), SfdFlags::SFD_CLOEXEC)
            .map_err(setup("signalfd"))?;
        let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
        let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
        let (status_read, status_write) = pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
        Ok((
            sfd,
            Pipes {
                go_read,
                go_write,
                err_read,
                err_write,
                status_read,
                status_write,
            },
        ))
    };
    match made() {
        Ok((sfd, pipes)) => Ok((old_mask, sfd, pipes)),
        Err(e) => {
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
            Err(e)
        }
    }
}

impl Pipes {
    /// Keep the supervisor's ends; the child's are closed here, so that EOF means what it
    /// should.
    fn supervisor_ends(self) -> SupervisorEnds {
        SupervisorEnds {
            go_write: self.go_write,
            err_read: self.err_read,
            status_read: self.status_read,
        }
    }
}

/// A traced init is a fork, since its tracer allocates: it gets its own copy of the plan and
/// builds the whole root without waiting for more.
#[cfg(target_arch = "x86_64")]
fn launch_forked(
    spec: &Spec,
    old_mask: &SigSet,
    sfd: &SignalFd,
    pipes: Pipes,
    tracing: child::TraceSetup<'_>,
) -> Result<Outcome, LaunchError> {
    let exec = child::ExecArrays::new(spec);
    let shared = InitShared {
        fds: pipes.raw(),
        old_mask: *old_mask,
        job: AtomicPtr::new(std::ptr::null_mut()),
        mounts: std::ptr::null_mut(),
        mounts_cap: 0,
        mounts_len: AtomicUsize::new(MOUNTS_FAILED),
        allowed: None,
        started: AtomicBool::new(false),
    };
    let job = Job { spec, exec: &exec };
    // SAFETY: a raw clone without CLONE_VM or a new stack behaves like fork(2): the child
    // gets a copy of the address space. The process is single-threaded (checked in
    // `prepare`), so no lock is held by another thread at this point, and the child only runs
    // `child::init_main`, which never returns.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (NAMESPACES | libc::SIGCHLD) as libc::c_ulong,
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
        child::init_main(&shared, Some(&job), Some(tracing));
    }
    let init = Pid::from_raw(ret as i32);
    let ends = pipes.supervisor_ends();
    if let Err(e) = let_go(init, spec.id_map, &ends.go_write) {
        let _ = kill(init, Signal::SIGKILL);
        let _ = waitpid(init, None);
        return Err(LaunchError::Setup(e));
    }
    Prefabs::of(spec).send(&ends.go_write);
    // From here PR_SET_PDEATHSIG, not this pipe, ties the init to cordon.
    drop(ends.go_write);
    wait_command(init, spec, ends.err_read, ends.status_read, sfd, false)
}

/// What an untraced init runs on besides its stack, kept at one address by the supervisor
/// until the init is reaped (or until cordon exits).
pub(crate) struct InitShared {
    pub fds: InitFds,
    /// The mask the command gets back.
    pub old_mask: SigSet,
    /// The plan: set before the supervisor's last byte on the go pipe.
    pub job: AtomicPtr<Job<'static>>,
    /// Where the init copies the host's mount table, for the plan, and how much it wrote:
    /// [`MOUNTS_PENDING`] until then, [`MOUNTS_FAILED`] if it could not.
    pub mounts: *mut MaybeUninit<u8>,
    pub mounts_cap: usize,
    pub mounts_len: AtomicUsize,
    /// The CPUs the supervisor may use, which the init takes back after each move to one
    /// CPU: the supervisor's (see [`Prelaunch::settle`]) and its own, to place the command.
    /// None for a traced init, which is never moved.
    pub allowed: Option<rustix::thread::CpuSet>,
    /// The init has started running.
    pub started: AtomicBool,
}

pub(crate) const MOUNTS_PENDING: usize = usize::MAX;
pub(crate) const MOUNTS_FAILED: usize = usize::MAX - 1;
/// Room for the host's mount table: some 400 mounts. Left uninitialized: zeroed, its 16
/// pages would each cost a page fault before the init could start, where the init's read
/// touches the one or two a mount table needs.
const MOUNTS_CAP: usize = 64 * 1024;

/// What the init makes before it has the plan, besides the staging root: what the plan will
/// want, as far as the policy tells (an unwanted one would only delay the init).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefabs {
    /// A minimal /dev ([`MountOp::Dev`]).
    pub dev: bool,
    /// A procfs ([`MountOp::Proc`]).
    pub proc: bool,
    /// The host's root, with its submounts, at [`NEWROOT`]: the first mount of a plan whose
    /// root is the host's, read-only, rather than a mirror of it. The plan's op then only
    /// makes it read-only; a plan that turns out otherwise has it unmounted.
    pub root: bool,
}

impl Prefabs {
    /// What `spec` uses.
    pub fn of(spec: &Spec) -> Prefabs {
        let has = |f: &dyn Fn(&MountOp) -> bool| spec.ops.iter().any(f);
        Prefabs {
            dev: has(&|op| matches!(op, MountOp::Dev { .. })),
            proc: has(&|op| matches!(op, MountOp::Proc { .. })),
            root: Prefabs::root_bind_first(spec),
        }
    }

    /// Whether the first of `spec`'s ops that mounts in the new root binds the host's root
    /// there, recursively and read-only: what [`Prefabs::root`] makes ahead.
    pub(crate) fn root_bind_first(spec: &Spec) -> bool {
        let mut in_root = spec.ops.iter().filter(|op| match op {
            MountOp::Mkdir { path } | MountOp::Touch { path, .. } => {
                path.to_bytes().starts_with(NEWROOT.as_bytes())
            }
            _ => true,
        });
        matches!(in_root.next(), Some(MountOp::Bind { src, dst, recursive: true, readonly: true, .. })
            if src.to_bytes() == OLDROOT.as_bytes() && dst.to_bytes() == NEWROOT.as_bytes())
    }

    /// Send these to the init as the go pipe's second byte. A failed write means that the
    /// init has ended; the launch reads why.
    fn send(self, go_write: &OwnedFd) {
        let _ = nix::unistd::write(go_write.as_fd(), &[self.byte()]);
    }

    /// The go pipe's second byte.
    fn byte(self) -> u8 {
        u8::from(self.dev) | u8::from(self.proc) << 1 | u8::from(self.root) << 2
    }

    /// What the go pipe's second `byte` says.
    pub(crate) fn from_byte(byte: u8) -> Prefabs {
        Prefabs {
            dev: byte & 1 != 0,
            proc: byte & 2 != 0,
            root: byte & 4 != 0,
        }
    }
}

/// The plan the init builds and the command it starts.
pub(crate) struct Job<'a> {
    pub spec: &'a Spec,
    pub exec: &'a child::ExecArrays,
}

/// The untraced init's entry, boxed so that [`Prelaunch`] can name it.
type InitEntry = Box<dyn FnOnce()>;

/// A sandbox started before its plan is compiled, and even before its policy is known. The
/// init gets its namespaces, the staging root and an empty capability bounding set while the
/// caller resolves the policy, then what [`Prelaunch::prefabs`] asks for (the host's root, a
/// minimal /dev, a procfs) while the caller compiles the plan, on another CPU when one lets it start at once
/// (see `move_elsewhere` and [`Prelaunch::settle`]); [`Prelaunch::launch`] hands the plan
/// over. Dropped unused, it kills the init.
///
/// The process must stay single-threaded from [`Prelaunch::start`] to the launch, and the
/// signals cordon forwards stay blocked in between (one that arrives is forwarded then).
pub struct Prelaunch {
    /// First, so that the init is gone before what it runs on (fields drop in order).
    guard: InitGuard,
    id_map: IdMap,
    sfd: SignalFd,
    ends: SupervisorEnds,
    /// The init's stack and entry, and what it reads.
    child: (crate::raw::SharedChild<InitEntry>, Box<InitShared>),
    /// What `InitShared::mounts` points to.
    mounts: Box<[MaybeUninit<u8>]>,
    /// The init was moved to another CPU than this process's.
    moved: bool,
    /// [`Prelaunch::prefabs`] has told the init what to make.
    prefabs_sent: bool,
    /// [`Prelaunch::linger`] was called.
    linger: bool,
}

/// Kills and reaps an init that was never handed a plan, and gives the process its signal
/// mask back.
struct InitGuard {
    init: Pid,
    old_mask: SigSet,
    launched: bool,
}

impl Drop for InitGuard {
    fn drop(&mut self) {
        if !self.launched {
            let _ = kill(self.init, Signal::SIGKILL);
            while let Err(Errno::EINTR) = waitpid(self.init, None) {}
        }
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.old_mask), None);
    }
}

impl Prelaunch {
    /// Start the init of a namespace sandbox whose user namespace maps ids as `id_map`.
    pub fn start(id_map: IdMap) -> Result<Prelaunch, LaunchError> {
        let (old_mask, sfd, pipes) = prepare()?;
        let mut mounts = Vec::with_capacity(MOUNTS_CAP);
        mounts.resize_with(MOUNTS_CAP, MaybeUninit::uninit);
        let mut mounts = mounts.into_boxed_slice();
        let shared = Box::new(InitShared {
            fds: pipes.raw(),
            old_mask,
            job: AtomicPtr::new(std::ptr::null_mut()),
            mounts: mounts.as_mut_ptr(),
            mounts_cap: mounts.len(),
            mounts_len: AtomicUsize::new(MOUNTS_PENDING),
            allowed: rustix::thread::sched_getaffinity(None).ok(),
            started: AtomicBool::new(false),
        });
        let at: *const InitShared = &*shared;
        let entry: InitEntry = Box::new(move || {
            // SAFETY: `shared` is boxed and kept by the Prelaunch until the init is reaped, or
            // leaked when the init may outlive it (see `launch`).
            child::init_main(unsafe { &*at }, None, None)
        });
        // SAFETY: this process is single-threaded (checked in `prepare`). The init only makes
        // system calls on what `shared` holds and, once the go pipe says so, on the Job it
        // points to; this process leaves all of it alone until it has reaped the init, and
        // the returned value (the stack) is kept as long.
        let cloned =
            unsafe { crate::raw::clone_shared(NAMESPACES | libc::SIGCHLD, INIT_STACK, entry) };
        let child = match cloned {
            Ok(child) => child,
            Err(e) => {
                let _ =
                    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
                return Err(clone_failed(e));
            }
        };
        let init = Pid::from_raw(child.pid);
        let moved = shared
            .allowed
            .as_ref()
            .is_some_and(|allowed| move_elsewhere(init, allowed));
        let ends = pipes.supervisor_ends();
        if let Err(e) = let_go(init, id_map, &ends.go_write) {
            let _ = kill(init, Signal::SIGKILL);
            let _ = wait_init(init, &sfd);
            // The init is reaped: its stack and what it read may go.
            drop((child, shared));
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
            // An init that failed before (its namespaces) left the reason in the error pipe.
            drop(ends.go_write);
            let mut buf = [0u8; child::RECORD_LEN];
            if read_full(ends.err_read.as_raw_fd(), &mut buf) == child::RECORD_LEN {
                return Err(child::ErrorRecord::decode(&buf).into_error(&[]));
            }
            return Err(LaunchError::Setup(e));
        }
        Ok(Prelaunch {
            guard: InitGuard {
                init,
                old_mask,
                launched: false,
            },
            id_map,
            sfd,
            ends,
            child: (child, shared),
            mounts,
            moved,
            prefabs_sent: false,
            linger: false,
        })
    }

    /// Have the init make `prefabs` before the plan is there: as soon as the policy says
    /// which (later calls are ignored). Without it, the launch asks for what its plan uses.
    pub fn prefabs(&mut self, prefabs: Prefabs) {
        if !self.prefabs_sent {
            prefabs.send(&self.ends.go_write);
            self.prefabs_sent = true;
        }
    }

    /// The host's mount table (`/proc/self/mountinfo`) as the init read it before it started
    /// mounting, or None if it could not (or has not yet).
    /// Read here instead, it would wait for the init's mounts, which hold the kernel's lock.
    pub fn host_mount_table(&self) -> Option<&[u8]> {
        let (_, shared) = &self.child;
        // The init reads the table first thing: done long before the plan asks, unless it
        // has not run yet. No waiting for it, which may need this CPU.
        match shared.mounts_len.load(Ordering::Acquire) {
            MOUNTS_PENDING | MOUNTS_FAILED => None,
            len => {
                let table = self.mounts.get(..len)?;
                // SAFETY: the init's reads wrote these `len` bytes before it published `len`
                // (Release there, Acquire above); MaybeUninit<u8> and u8 have one layout.
                Some(unsafe { &*(table as *const [MaybeUninit<u8>] as *const [u8]) })
            }
        }
    }

    /// Call before each long part of the caller's work (the policy, the plan). An init moved
    /// to another CPU that has not started yet waits behind something else there (a parallel
    /// build): move it back to this CPU, where it runs as soon as this process blocks, as it
    /// would have without the move.
    pub fn settle(&mut self) {
        let (_, shared) = &self.child;
        if self.moved && !shared.started.load(Ordering::Acquire) {
            move_here(self.guard.init);
            self.moved = false;
        }
    }

    /// For a caller that exits once [`Prelaunch::launch`] returns (`cordon run`): the init,
    /// alone in the sandbox once it has reported the command's status, then stays until this
    /// process exits. The two share their memory, and the last of them to exit unmaps it all
    /// (some 80 us here) before the kernel tells its parent: then it is the init, whose end
    /// nobody waits for, rather than this process, whose caller does.
    pub fn linger(&mut self) {
        self.linger = true;
    }

    /// Build `spec`'s root in the started sandbox, run its command and wait for it.
    pub fn launch(mut self, spec: &Spec) -> Result<Outcome, LaunchError> {
        if spec.id_map != self.id_map {
            // Not what the init was started for: a new one.
            drop(self);
            return launch(spec);
        }
        self.prefabs(Prefabs::of(spec));
        let Prelaunch {
            mut guard,
            sfd,
            ends,
            child,
            moved,
            linger,
            ..
        } = self;
        let init = guard.init;
        let exec = child::ExecArrays::new(spec);
        let job = Job { spec, exec: &exec };
        let (_, shared) = &child;
        if moved {
            // Here it runs as soon as this process blocks, and nothing else waits here. Done,
            // it sleeps until the byte below, and is moved at no cost: woken where it slept,
            // it would wait behind whatever else runs there (a parallel build). Not done, it
            // is moved away from what may have taken its turn there. Before the plan is
            // there: the init takes its CPUs back once it has the plan, and a move landing
            // after that would keep it on one.
            move_here(init);
        }
        // The lifetime is the init's reading of it, which ends before this function returns
        // (the command has been executed, or has failed to be, by then).
        shared.job.store(
            (&job as *const Job<'_>).cast::<Job<'static>>().cast_mut(),
            Ordering::Release,
        );
        guard.launched = true;
        // An init that has already failed left its record in the error pipe: read below.
        // From the store above the init may be building with system calls that set errno,
        // which it shares with this process: only calls that succeed until the error pipe
        // answers (the init never closes its end of the go pipe, so this write does).
        let _ = nix::unistd::write(ends.go_write.as_fd(), b"s");
        drop(ends.go_write);
        let outcome = wait_command(init, spec, ends.err_read, ends.status_read, &sfd, linger);
        // When the status came from the status pipe the init may still be in its last
        // instructions (or in the kernel's teardown of its namespaces), so its stack stays
        // mapped: cordon exits next.
        if let Ok(WaitStatus::StillAlive) = waitpid(init, Some(WaitPidFlag::WNOHANG)) {
            std::mem::forget(child);
        }
        outcome
    }
}

/// Move the init to this process's CPU (it takes back the others once it has the plan).
fn move_here(init: Pid) {
    let mut here = rustix::thread::CpuSet::new();
    here.set(rustix::thread::sched_getcpu());
    let _ = rustix::thread::sched_setaffinity(rustix::process::Pid::from_raw(init.as_raw()), &here);
}

/// Move the just-cloned init, which has not run yet, to another CPU than this process's, among
/// those `allowed`. A new process starts on its parent's CPU and waits there until the parent
/// blocks: elsewhere it builds while this process compiles the plan. The init takes `allowed`
/// back when it starts; if it does not start soon, [`Prelaunch::settle`] moves it back. False
/// when there is no other CPU (or the kernel refused).
fn move_elsewhere(init: Pid, allowed: &rustix::thread::CpuSet) -> bool {
    use rustix::thread::CpuSet;
    let here = rustix::thread::sched_getcpu();
    let Some(other) = (1..CpuSet::MAX_CPU)
        .map(|i| (here + i) % CpuSet::MAX_CPU)
        .find(|&c| allowed.is_set(c))
    else {
        return false;
    };
    let mut one = CpuSet::new();
    one.set(other);
    let pid = rustix::process::Pid::from_raw(init.as_raw());
    rustix::thread::sched_setaffinity(pid, &one).is_ok()
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

/// Write the init's id maps and send the first byte on the go pipe: the init may build.
fn let_go(init: Pid, id_map: IdMap, go_write: &OwnedFd) -> Result<(), SysError> {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    write_id_maps(init, uid, gid, id_map)?;
    nix::unistd::write(go_write.as_fd(), b"g").map_err(|e| SysError::new("write", "", e))?;
    Ok(())
}

/// Wait for the command to be executed (or for a record of what failed) and then for it to
/// end: for the status the init reports once nothing of the sandbox runs any more, or else
/// for the init's own exit.
fn wait_command(
    init: Pid,
    spec: &Spec,
    err_read: OwnedFd,
    status_read: OwnedFd,
    sfd: &SignalFd,
    linger: bool,
) -> Result<Outcome, LaunchError> {
    let mut buf = [0u8; child::RECORD_LEN];
    let n = read_full(err_read.as_raw_fd(), &mut buf);
    drop(err_read);
    if n == child::RECORD_LEN {
        // An init that reaped a command that could not be executed wrote its status, and
        // waits for this pipe to close (see child::finish).
        drop(status_read);
        let _ = wait_init(init, sfd);
        return Err(child::ErrorRecord::decode(&buf).into_error(&spec.argv));
    }
    Ok(wait_forwarding(init, sfd, status_read, linger))
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
/// down; cordon does not wait for that teardown (bubblewrap's monitor does the same). With
/// `linger`, the status pipe stays open until this process exits (see [`Prelaunch::linger`]).
fn wait_forwarding(init: Pid, sfd: &SignalFd, status: OwnedFd, linger: bool) -> Outcome {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    // Waiting for the init's exit, close the status pipe first: an init that wrote the status
    // stays until its reader has closed it (see child::finish and Prelaunch::linger).
    let wait_init = |status: OwnedFd| {
        drop(status);
        wait_init(init, sfd)
    };
    loop {
        let mut fds = [
            PollFd::new(status.as_fd(), PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return wait_init(status),
        }
        // The status first: the init's exit follows it closely, and its SIGCHLD must not be
        // taken for the end without the status.
        if fds[0].any().unwrap_or(false) {
            let mut buf = [0u8; 4];
            return match read_full(status.as_raw_fd(), &mut buf) {
                4 => {
                    if linger {
                        // Open until this process exits, which lets the init go.
                        std::mem::forget(status);
                    }
                    Outcome::Exited(i32::from_ne_bytes(buf))
                }
                _ => wait_init(status),
            };
        }
        if !fds[1].any().unwrap_or(false) {
            continue;
        }
        let info = match sfd.read_signal() {
            Ok(Some(info)) => info,
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(_) => return wait_init(status),
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

/// Fail unless this process has one thread. unshare(2) of the address space is refused
/// (EINVAL) in a process that shares it, and changes nothing in one that does not: one system
/// call, where counting the entries of `/proc/self/task` took five (some 18 us before the
/// init could start). Where a seccomp filter refuses unshare itself (a container's
/// default profile), the count decides.
fn ensure_single_threaded() -> Result<(), SysError> {
    let threads = match nix::sched::unshare(nix::sched::CloneFlags::CLONE_VM) {
        Ok(()) => 1,
        Err(Errno::EINVAL) => 2,
        Err(_) => std::fs::read_dir("/proc/self/task")
            .map_err(|e| SysError::new("opendir", "/proc/self/task", io_errno(&e)))?
            .count(),
    };
    if threads > 1 {
        return Err(SysError::new(
            "clone",
            "from a process with more than one thread",
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

#[cfg(test)]
mod tests {
    /// [`super::ensure_single_threaded`] while a second thread waits.
    fn check_beside_a_second_thread() -> Result<(), crate::SysError> {
        let (tell, wait) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || wait.recv());
        let checked = super::ensure_single_threaded();
        drop(tell);
        let _ = other.join();
        checked
    }

    #[test]
    fn a_second_thread_is_refused() {
        let err = check_beside_a_second_thread().expect_err("a process with two threads");
        assert!(err.to_string().contains("more than one thread"), "{err}");
    }

    /// With unshare refused, as a container's seccomp profile does, the count of
    /// /proc/self/task decides: one thread passes, two do not.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_thread_count_decides_where_unshare_is_refused() {
        use seccompiler::{SeccompAction, SeccompFilter, TargetArch};
        let refuse_unshare = SeccompFilter::new(
            [(libc::SYS_unshare, vec![])].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            TargetArch::x86_64,
        )
        .unwrap();
        let program: seccompiler::BpfProgram = refuse_unshare.try_into().unwrap();
        // SAFETY: the child runs only this body (one thread after the fork, which may spawn
        // another) and leaves with _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let ok = nix::sys::prctl::set_no_new_privs().is_ok()
                    && seccompiler::apply_filter(&program).is_ok()
                    && nix::sched::unshare(nix::sched::CloneFlags::CLONE_VM)
                        == Err(super::Errno::EPERM)
                    && super::ensure_single_threaded().is_ok()
                    && check_beside_a_second_thread().is_err();
                crate::raw::exit_now(if ok { 0 } else { 1 })
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }

    #[test]
    fn prefabs_survive_the_go_pipe() {
        for byte in 0..8 {
            let p = super::Prefabs::from_byte(byte);
            assert_eq!(p.byte(), byte);
            assert_eq!(
                (p.dev, p.proc, p.root),
                (byte & 1 != 0, byte & 2 != 0, byte & 4 != 0)
            );
        }
    }
}

//! The init process: runs in the child after `clone`, never returns.
//!
//! No locks, no panics and no allocation: every path is a prepared `CStr`, execve's arrays
//! are built in advance ([`ExecArrays`]), failures go to the supervisor as one fixed-size
//! [`ErrorRecord`] on a pipe. An untraced init shares the supervisor's memory and runs
//! alongside it (see `sandbox::launch`), so this is a requirement, not a style. A traced init
//! is a fork, and its tracer allocates; that is safe because it was forked from a
//! single-threaded process, so no other thread can hold the allocator's lock.

use std::ffi::CStr;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{chdir, pivot_root, ForkResult, Pid};

use crate::mount as m;
use crate::sandbox::{
    forwarded_set, InitFds, InitShared, Job, LaunchError, MountOp, Prefabs, Spec, MOUNTS_FAILED,
    NEWROOT,
};
use crate::stage::{self, StepError};
use crate::SysError;
use std::sync::atomic::Ordering;

pub(crate) const RECORD_LEN: usize = 256;
const CALL_LEN: usize = 24;
const DETAIL_LEN: usize = RECORD_LEN - 8 - CALL_LEN;
const KIND_SETUP: u32 = 1;
const KIND_EXEC: u32 = 2;

/// What failed in the init or the command, sent to the supervisor.
pub(crate) struct ErrorRecord {
    kind: u32,
    errno: i32,
    call: [u8; CALL_LEN],
    detail: [u8; DETAIL_LEN],
}

impl ErrorRecord {
    fn new(kind: u32, call: &str, detail: &[u8], errno: Errno) -> Self {
        let mut r = ErrorRecord {
            kind,
            errno: errno as i32,
            call: [0; CALL_LEN],
            detail: [0; DETAIL_LEN],
        };
        copy_truncated(&mut r.call, call.as_bytes());
        copy_truncated(&mut r.detail, detail);
        r
    }

    fn encode(&self) -> [u8; RECORD_LEN] {
        let mut b = [0u8; RECORD_LEN];
        b[0..4].copy_from_slice(&self.kind.to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.to_ne_bytes());
        b[8..8 + CALL_LEN].copy_from_slice(&self.call);
        b[8 + CALL_LEN..].copy_from_slice(&self.detail);
        b
    }

    pub(crate) fn decode(b: &[u8; RECORD_LEN]) -> Self {
        let mut r = ErrorRecord {
            kind: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            errno: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            call: [0; CALL_LEN],
            detail: [0; DETAIL_LEN],
        };
        r.call.copy_from_slice(&b[8..8 + CALL_LEN]);
        r.detail.copy_from_slice(&b[8 + CALL_LEN..]);
        r
    }

    /// The error, for a command `argv` (whose name a not-found error gives).
    pub(crate) fn into_error(self, argv: &[std::ffi::CString]) -> LaunchError {
        let text = |b: &[u8]| {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            String::from_utf8_lossy(&b[..end]).into_owned()
        };
        let errno = Errno::from_raw(self.errno);
        let detail = text(&self.detail);
        if self.kind == KIND_EXEC {
            if matches!(errno, Errno::ENOENT | Errno::ENOTDIR) {
                let command = argv
                    .first()
                    .map(|a| a.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return LaunchError::NotFound { command };
            }
            return LaunchError::CannotExecute {
                path: detail,
                errno,
            };
        }
        // Static call names only, so that SysError keeps its &'static str.
        let call = match text(&self.call).as_str() {
            "mount" => "mount",
            "bind" => "bind",
            "mount_setattr" => "mount_setattr",
            "overlay" => "overlay",
            "remount" => "remount read-only",
            "mkdir" => "mkdir",
            "create" => "create",
            "symlink" => "symlink",
            "pivot_root" => "pivot_root",
            "chdir" => "chdir",
            "umount" => "umount",
            "fork" => "fork",
            "prctl" => "prctl",
            "capset" => "capset",
            "loopback" => "bring up loopback",
            "unshare" => "unshare",
            "ptrace" => "ptrace",
            _ => "setup",
        };
        LaunchError::Setup(SysError::new(call, detail, errno))
    }
}

fn copy_truncated(dst: &mut [u8], src: &[u8]) {
    let n = src.len().min(dst.len() - 1);
    dst[..n].copy_from_slice(&src[..n]);
}

/// Report `call path: errno` to the supervisor and exit.
fn fail(pipes: &InitFds, kind: u32, call: &str, detail: &[u8], errno: Errno) -> ! {
    let rec = ErrorRecord::new(kind, call, detail, errno).encode();
    // SAFETY: err_write stays open in this process until it exits.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(pipes.err_write) };
    let _ = nix::unistd::write(fd, &rec);
    exit(if kind == KIND_EXEC && matches!(errno, Errno::ENOENT) {
        127
    } else if kind == KIND_EXEC {
        126
    } else {
        125
    })
}

fn exit(code: i32) -> ! {
    // _exit: no atexit handlers or stdio flushing that belong to the supervisor.
    crate::raw::exit_now(code)
}

/// What the init needs to trace the command.
pub(crate) struct TraceSetup<'a> {
    #[cfg(target_arch = "x86_64")]
    pub programs: &'a [seccompiler::BpfProgram],
    #[cfg(target_arch = "x86_64")]
    pub observer: &'a mut dyn crate::ptrace::Observer,
    #[cfg(not(target_arch = "x86_64"))]
    pub _never: std::marker::PhantomData<&'a ()>,
}

/// The init's whole life: wait for the id maps, make the staging root, then what the policy's
/// root has once the supervisor says which ([`crate::stage`], beside the supervisor), wait for
/// the plan unless it is `given`, build the root, start the command, reap (or trace) it.
pub(crate) fn init_main(
    shared: &InitShared,
    given: Option<&Job<'_>>,
    tracing: Option<TraceSetup<'_>>,
) -> ! {
    // Until the plan is there the supervisor runs beside this process on the same memory and
    // errno: rustix's raw calls only (see `stage`).
    shared.started.store(true, Ordering::Release);
    take_back_cpus(shared);
    let pipes = &shared.fds;
    // Die with the supervisor. If it died before this line, the go pipe reads EOF below.
    if let Err(e) =
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
    {
        fail(
            pipes,
            KIND_SETUP,
            "prctl",
            b"PR_SET_PDEATHSIG",
            Errno::from_raw(e.raw_os_error()),
        );
    }
    for fd in [pipes.go_write, pipes.err_read, pipes.status_read] {
        // SAFETY: these are this process's copies of the supervisor's ends, which it never
        // uses; closing them lets EOF mean what it should.
        unsafe { rustix::io::close(fd) };
    }
    if !shared.mounts.is_null() {
        // SAFETY: the supervisor lent this buffer to this process alone until `mounts_len`
        // says it is written (Release here, Acquire there), and keeps it as long as `shared`.
        let buf = unsafe { std::slice::from_raw_parts_mut(shared.mounts, shared.mounts_cap) };
        let len = stage::read_mount_table(buf).unwrap_or(MOUNTS_FAILED);
        shared.mounts_len.store(len, Ordering::Release);
    }
    if let Err((call, path, e)) = stage::namespaces().and_then(|()| stage::staging_mount()) {
        fail(pipes, KIND_SETUP, call, path, e);
    }
    // The id maps: the directories made from here on need them.
    if go_byte(pipes).is_none() {
        exit(125);
    }

    // Modes of what the init creates are exact; the command gets the caller's umask back.
    let umask = rustix::process::umask(rustix::fs::Mode::empty());
    if let Err((call, path, e)) = stage::staging_root() {
        fail(pipes, KIND_SETUP, call, path, e);
    }
    let bounding = stage::drop_bounding_set();
    // What the policy's root will have: the supervisor says once it has the policy.
    let Some(prefabs) = go_byte(pipes).map(Prefabs::from_byte) else {
        exit(125);
    };
    let prefab = Prefab {
        root: prefabs.root.then(stage::root),
        dev: prefabs.dev.then(stage::dev),
        proc: prefabs.proc.then(stage::proc),
    };

    let job = match given {
        Some(job) => job,
        None => {
            // Ready already when the supervisor was the faster: no sleep then.
            let mut job = shared.job.load(Ordering::Acquire);
            if job.is_null() {
                if go_byte(pipes).is_none() {
                    exit(125);
                }
                job = shared.job.load(Ordering::Acquire);
            }
            // SAFETY: the supervisor stores a Job that it keeps until the command has been
            // executed (Release there, Acquire here), before its last byte.
            match unsafe { job.as_ref() } {
                Some(job) => job,
                None => exit(125),
            }
        }
    };
    // go_read stays open (the command does not inherit it: close-on-exec). Closed, it would
    // fail the supervisor's last byte with EPIPE when this init saw the plan without
    // reading that byte, and the EPIPE would land in the errno this init uses from here on.
    // The CPUs again: the supervisor moved this process to its own CPU before the plan.
    take_back_cpus(shared);
    let spec = job.spec;
    if let Err((call, path, e)) = bounding {
        fail(pipes, KIND_SETUP, call, path, e);
    }
    if spec.unshare_net {
        if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
            fail(pipes, KIND_SETUP, "unshare", b"network namespace", e);
        }
        if let Err(e) = m::loopback_up() {
            fail(pipes, KIND_SETUP, "loopback", b"lo", e);
        }
    }
    if let Err((call, path, e)) = build_root(spec, &prefab) {
        fail(pipes, KIND_SETUP, call, path, e);
    }
    if let Err(e) = chdir(spec.cwd.as_c_str()) {
        fail(pipes, KIND_SETUP, "chdir", spec.cwd.to_bytes(), e);
    }
    let umask = Mode::from_bits_truncate(umask.as_raw_mode());
    let old_mask = &shared.old_mask;

    let pid = if tracing.is_some() {
        // A tracee stops for its tracer before exec, so the tracer cannot wait for the exec.
        // SAFETY: this process is single-threaded (it is a fork-like clone of a
        // single-threaded supervisor), so the child of this fork may run any code.
        match unsafe { nix::unistd::fork() } {
            Ok(ForkResult::Child) => {
                nix::sys::stat::umask(umask);
                exec_command(spec, pipes, old_mask, tracing.as_ref(), job.exec)
            }
            Ok(ForkResult::Parent { child }) => child,
            Err(e) => fail(pipes, KIND_SETUP, "fork", b"", e),
        }
    } else {
        // The command starts on this CPU, which this process leaves to it until it has
        // executed; placed by the kernel, it would be woken on another CPU, behind whatever
        // runs there. It takes back every CPU before it executes.
        let pinned = pin_here(shared);
        // Up to exec, the command's side only makes system calls on prepared data.
        let spawned = crate::raw::spawn_shared(|| {
            if pinned {
                take_back_cpus(shared);
            }
            nix::sys::stat::umask(umask);
            exec_command(spec, pipes, old_mask, None, job.exec)
        });
        if pinned {
            take_back_cpus(shared);
        }
        match spawned {
            Ok(pid) => Pid::from_raw(pid),
            Err(e) => fail(pipes, KIND_SETUP, "fork", b"", e),
        }
    };
    let _ = nix::unistd::close(pipes.err_write);
    match tracing {
        #[cfg(target_arch = "x86_64")]
        Some(t) => trace_command(pid, t.observer),
        _ => reap(pid, pipes.status_write),
    }
}

/// Allow every CPU the supervisor may use: the supervisor narrowed them to one to place this
/// process (see `sandbox::Prelaunch::settle`), or this process did to place the command
/// ([`pin_here`]).
fn take_back_cpus(shared: &InitShared) {
    if let Some(allowed) = &shared.allowed {
        let _ = rustix::thread::sched_setaffinity(None, allowed);
    }
}

/// Allow this process only the CPU it runs on, if it knows which to take back (see
/// [`take_back_cpus`]): true if it did.
fn pin_here(shared: &InitShared) -> bool {
    if shared.allowed.is_none() {
        return false;
    }
    let mut here = rustix::thread::CpuSet::new();
    here.set(rustix::thread::sched_getcpu());
    rustix::thread::sched_setaffinity(None, &here).is_ok()
}

/// Read one byte from the go pipe: None on EOF (the supervisor is gone) or an error.
fn go_byte(pipes: &InitFds) -> Option<u8> {
    // SAFETY: go_read stays open in this process for as long as it runs.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(pipes.go_read) };
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::read(fd, &mut byte) {
            Ok(1) => return Some(byte[0]),
            Err(rustix::io::Errno::INTR) => continue,
            _ => return None,
        }
    }
}

/// What [`crate::stage`] made before the plan was there, or why it could not: reported only
/// if the plan uses it.
struct Prefab {
    /// None: not made (the policy did not ask for it), made when the plan wants it.
    /// A failed root bind is made again by the plan's op, which reports what fails then.
    root: Option<Result<(), StepError<'static>>>,
    dev: Option<Result<(), StepError<'static>>>,
    proc: Option<Result<(), StepError<'static>>>,
}

/// Follow the command as its tracer until every process of the sandbox has ended, forwarding
/// the signals the supervisor sends; exit with the command's status.
#[cfg(target_arch = "x86_64")]
fn trace_command(command: Pid, observer: &mut dyn crate::ptrace::Observer) -> ! {
    if crate::ptrace::start_tracing(command).is_err() {
        let _ = kill(command, Signal::SIGKILL);
        exit(125);
    }
    observer.spawned(command.as_raw(), 0);
    let _ = crate::raw::forward_signals(command.as_raw(), &crate::sandbox::FORWARDED);
    let outcome = crate::ptrace::tracer_loop(command, observer);
    exit(outcome.code())
}

fn build_root<'a>(spec: &'a Spec, prefab: &Prefab) -> Result<(), StepError<'a>> {
    const ROOT: &CStr = c"/";
    const DOT: &CStr = c".";
    const NEWROOT_C: &CStr = c"/newroot";
    debug_assert_eq!(NEWROOT_C.to_bytes(), NEWROOT.as_bytes());

    let mut scratch_dirs = 0;
    let mut placed = Placed::default();
    if matches!(prefab.root, Some(Ok(()))) {
        placed.root = Prefabs::root_bind_first(spec);
        if !placed.root {
            // The policy's root was the host's, the plan's is not (a mirror of it): back to
            // the staging root's own mount point.
            umount2(NEWROOT_C, MntFlags::MNT_DETACH)
                .map_err(|e| ("umount", b"/newroot".as_slice(), e))?;
        }
    }
    for op in &spec.ops {
        run_op(op, &mut scratch_dirs, prefab, &mut placed)?;
    }

    // Enter the new root and drop the staging root with the host's root under it.
    chdir(NEWROOT_C).map_err(|e| ("chdir", b"/newroot".as_slice(), e))?;
    pivot_root(DOT, DOT).map_err(|e| ("pivot_root", b"new root".as_slice(), e))?;
    umount2(DOT, MntFlags::MNT_DETACH).map_err(|e| ("umount", b"old root".as_slice(), e))?;
    chdir(ROOT).map_err(|e| ("chdir", b"/".as_slice(), e))?;
    Ok(())
}

/// Move what `stage` made (at `made`, if `result` says it could) to `dst`.
fn move_made<'a>(
    result: Result<(), StepError<'static>>,
    made: &CStr,
    dst: &'a CStr,
) -> Result<(), StepError<'a>> {
    // An error at the staging path itself is reported at the path the plan wanted.
    result.map_err(|(call, path, e)| {
        (
            call,
            if path == made.to_bytes() {
                dst.to_bytes()
            } else {
                path
            },
            e,
        )
    })?;
    mount(
        Some(made),
        dst,
        None::<&CStr>,
        MsFlags::MS_MOVE,
        None::<&CStr>,
    )
    .map_err(|e| ("mount", dst.to_bytes(), e))
}

/// Where the first `/dev` and procfs went: the staging area has one of each. `root`: the
/// host's root is bound at the new root already, for the plan's first bind there.
#[derive(Default)]
struct Placed<'a> {
    dev: Option<&'a CStr>,
    proc: Option<&'a CStr>,
    root: bool,
}

/// Run one operation; `scratch_dirs` counts the staging directories made so far.
fn run_op<'a>(
    op: &'a MountOp,
    scratch_dirs: &mut u32,
    prefab: &Prefab,
    placed: &mut Placed<'a>,
) -> Result<(), StepError<'a>> {
    match op {
        MountOp::Mkdir { path } => m::mkdir_p(path).map_err(|e| ("mkdir", path.to_bytes(), e)),
        MountOp::Touch { path, mode } => {
            m::touch(path, *mode).map_err(|e| ("create", path.to_bytes(), e))
        }
        MountOp::Symlink { target, path } => {
            nix::unistd::symlinkat(target.as_c_str(), None, path.as_c_str())
                .map_err(|e| ("symlink", path.to_bytes(), e))
        }
        MountOp::Bind {
            src,
            dst,
            recursive,
            readonly,
            submounts,
        } => {
            if std::mem::take(&mut placed.root) {
                debug_assert_eq!(dst.to_bytes(), NEWROOT.as_bytes());
            } else {
                m::bind(src, dst, *recursive).map_err(|e| ("bind", src.to_bytes(), e))?;
            }
            if *readonly {
                m::make_readonly(dst, *recursive, submounts)
                    .map_err(|(call, path, e)| (call, path.to_bytes(), e))?;
            }
            Ok(())
        }
        MountOp::Tmpfs { dst, mode } => {
            *scratch_dirs += 1;
            m::scratch(dst, *mode, *scratch_dirs).map_err(|e| ("mount", dst.to_bytes(), e))
        }
        MountOp::Proc { dst } => match placed.proc {
            // A second procfs (a policy with two `proc` rules): the same, bound again.
            Some(first) => m::bind(first, dst, true).map_err(|e| ("bind", dst.to_bytes(), e)),
            None => {
                placed.proc = Some(dst);
                move_made(prefab.proc.unwrap_or_else(stage::proc), stage::PROC, dst)
            }
        },
        MountOp::Dev { dst } => match placed.dev {
            Some(first) => m::bind(first, dst, true).map_err(|e| ("bind", dst.to_bytes(), e)),
            None => {
                placed.dev = Some(dst);
                move_made(prefab.dev.unwrap_or_else(stage::dev), stage::DEV, dst)
            }
        },
        MountOp::Overlay {
            dst,
            layer,
            whiteouts,
            dirs,
            files,
            options,
            then,
        } => {
            m::overlay_layer(layer, whiteouts, dirs, files)
                .and_then(|()| m::overlay(dst, options))
                .map_err(|e| ("overlay", dst.to_bytes(), e))?;
            for op in then {
                run_op(op, scratch_dirs, prefab, placed)?;
            }
            Ok(())
        }
        MountOp::RemountReadonly { dst } => {
            m::make_readonly(dst, false, &[]).map_err(|(call, path, e)| (call, path.to_bytes(), e))
        }
    }
}

/// `argv` and `envp` as execve(2) takes them, built before the init starts: neither the init
/// nor the command may allocate when they run on the supervisor's memory.
pub(crate) struct ExecArrays {
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl ExecArrays {
    pub(crate) fn new(spec: &Spec) -> Self {
        let array = |v: &[std::ffi::CString]| {
            v.iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        ExecArrays {
            argv: array(&spec.argv),
            envp: array(&spec.envp),
        }
    }
}

/// The command's side of the last fork: restore the signal mask and SIGPIPE, drop every
/// capability, become a tracee when traced, exec. Only system calls on prepared data, since it
/// may run on the init's memory.
fn exec_command(
    spec: &Spec,
    pipes: &InitFds,
    old_mask: &SigSet,
    tracing: Option<&TraceSetup<'_>>,
    exec: &ExecArrays,
) -> ! {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(old_mask), None);
    crate::raw::default_sigpipe();
    // The bounding set is empty already (the init's, inherited).
    if let Err(e) = crate::raw::drop_capabilities(false) {
        fail(pipes, KIND_SETUP, "capset", b"drop all capabilities", e);
    }
    // No setuid binary or file capability can give back what was dropped.
    if let Err(e) = nix::sys::prctl::set_no_new_privs() {
        fail(pipes, KIND_SETUP, "prctl", b"PR_SET_NO_NEW_PRIVS", e);
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(t) = tracing {
        if let Err(e) = crate::ptrace::become_tracee(t.programs) {
            fail(pipes, KIND_SETUP, "ptrace", b"become a tracee", e);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = tracing;
    // As execvp(3): a missing candidate is skipped, EACCES is remembered and the search goes
    // on, any other error stops it.
    let mut denied: Option<&CStr> = None;
    for cand in &spec.exec_candidates {
        // SAFETY: the path and both arrays are NUL-terminated C strings and null-terminated
        // pointer arrays into `spec`, which outlives this call; execve returns only on error.
        unsafe { libc::execve(cand.as_ptr(), exec.argv.as_ptr(), exec.envp.as_ptr()) };
        let e = Errno::last();
        match e {
            Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
            Errno::EACCES => denied = denied.or(Some(cand.as_c_str())),
            e => fail(pipes, KIND_EXEC, "execve", cand.to_bytes(), e),
        }
    }
    match denied {
        Some(path) => fail(pipes, KIND_EXEC, "execve", path.to_bytes(), Errno::EACCES),
        None => fail(pipes, KIND_EXEC, "execve", b"", Errno::ENOENT),
    }
}

/// Reap every process (orphans are re-parented to this init) and forward signals to the command
/// until it exits; then exit with its status, which kills whatever is left in the namespace.
fn reap(command: Pid, status_write: i32) -> ! {
    let set = forwarded_set();
    loop {
        let sig = match set.wait() {
            Ok(sig) => sig,
            Err(_) => continue,
        };
        if sig != Signal::SIGCHLD {
            let _ = kill(command, sig);
            continue;
        }
        loop {
            match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == command => finish(code, status_write),
                Ok(WaitStatus::Signaled(pid, s, _)) if pid == command => {
                    finish(128 + s as i32, status_write)
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    }
}

/// End the sandbox with the command: kill what it left running and reap everything, so that
/// nothing of the sandbox runs once the supervisor has the status; then report the status and
/// exit once the supervisor has closed the status pipe: at once, or when it exits (see
/// `Prelaunch::linger`). The kernel tears the namespaces down during this exit, which the
/// supervisor does not wait for.
fn finish(code: i32, status_write: i32) -> ! {
    // From the init of a pid namespace, -1 is every other process in it; the kernel looks
    // through every process of the machine for them, so ask first whether there is any
    // (orphans are this process's children by the time the command is reaped).
    let none_left = matches!(
        waitpid(
            None::<Pid>,
            Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)
        ),
        Err(Errno::ECHILD)
    );
    if !none_left {
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
    }
    // Until ECHILD: none left.
    while let Ok(_) | Err(Errno::EINTR) = waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)) {}
    // SAFETY: status_write stays open in this process until it exits.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(status_write) };
    if nix::unistd::write(fd, &code.to_ne_bytes()).is_ok() {
        // A supervisor that lingers keeps its end open until its exit has left the memory the
        // two share, so that unmapping it is this process's part (see Prelaunch::linger).
        let mut end = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::empty())];
        while let Ok(0) | Err(Errno::EINTR) =
            nix::poll::poll(&mut end, nix::poll::PollTimeout::NONE)
        {}
    }
    exit(code)
}

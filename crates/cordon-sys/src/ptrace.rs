//! A tracer for whole process trees: ptrace, with a seccomp filter that stops the tracee only
//! at the system calls of interest (SECCOMP_RET_TRACE), so that every other call runs at full
//! speed. It sees static binaries, raw system calls and the dynamic loader's own opens, and it
//! needs neither root nor user namespaces (Yama's ptrace_scope 0 and 1 allow tracing one's own
//! child; 2 requires CAP_SYS_PTRACE).
//!
//! Since Linux 4.8 the seccomp stop comes before the system call runs; resuming it with
//! PTRACE_SYSCALL gives a syscall-exit stop with the result (rr issue 1762 describes the
//! reordering). x86_64 only for now: registers are read with PTRACE_GETREGS.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::ptrace::{self, Options};
use nix::sys::signal::Signal;
use nix::sys::uio::{process_vm_readv, RemoteIoVec};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use crate::error::SysError;
use crate::sandbox::{LaunchError, Outcome};

/// What to run under the tracer.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    pub cwd: CString,
    /// Paths to try to execute, in order (the `PATH` search, done in advance).
    pub exec_candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    /// System call numbers to stop at.
    pub traced: Vec<i64>,
    /// System calls refused with an errno without running (io_uring_setup: a ring would
    /// carry file operations past the tracer).
    pub refused: Vec<(i64, u32)>,
}

/// Receives what the tracee does. Calls happen while the tracee is stopped, so the observer
/// can read its memory ([`Tracee`]) and /proc entries (cwd, fds) as they are at that moment.
pub trait Observer {
    /// `pid` was created by `parent` (fork, vfork or clone).
    fn spawned(&mut self, pid: i32, parent: i32);
    /// `pid` executed a new program.
    fn executed(&mut self, pid: i32);
    /// `pid` is about to make system call `nr` with `args`.
    fn entry(&mut self, tracee: &Tracee, nr: i64, args: [u64; 6]);
    /// The system call `pid` entered has returned `ret` (negative: -errno).
    fn exit(&mut self, pid: i32, ret: i64);
    /// `pid` ended with `status` (exit status, or 128 + signal).
    fn ended(&mut self, pid: i32, status: i32);
    /// The traced command and all it started have ended; `status` is the command's.
    fn finished(&mut self, _status: i32) {}
}

/// A stopped tracee, whose memory can be read.
pub struct Tracee {
    pid: Pid,
}

impl Tracee {
    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    /// The NUL-terminated string at `addr` in the tracee (at most 4096 bytes), read page by
    /// page so that a string near the end of a mapping does not fail the whole read.
    pub fn read_cstring(&self, addr: u64) -> Option<Vec<u8>> {
        read_cstring(self.pid, addr)
    }

    /// A native-endian u64 at `addr` in the tracee.
    pub fn read_u64(&self, addr: u64) -> Option<u64> {
        let mut buf = [0u8; 8];
        let n = process_vm_readv(
            self.pid,
            &mut [std::io::IoSliceMut::new(&mut buf)],
            &[RemoteIoVec {
                base: addr as usize,
                len: 8,
            }],
        )
        .ok()?;
        (n == 8).then(|| u64::from_ne_bytes(buf))
    }
}

/// The NUL-terminated string at `addr` in process `pid` (at most 4096 bytes), read page by
/// page so that a string near the end of a mapping does not fail the whole read.
pub(crate) fn read_cstring(pid: Pid, addr: u64) -> Option<Vec<u8>> {
    if addr == 0 {
        return None;
    }
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < 4096 {
        let chunk = (PAGE - at % PAGE) as usize;
        let mut buf = vec![0u8; chunk];
        let n = process_vm_readv(
            pid,
            &mut [std::io::IoSliceMut::new(&mut buf)],
            &[RemoteIoVec {
                base: at as usize,
                len: chunk,
            }],
        )
        .ok()?;
        if let Some(end) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Some(out);
        }
        out.extend_from_slice(&buf[..n]);
        if n < chunk {
            return None;
        }
        at += n as u64;
    }
    None
}

/// newfstatat and statx with AT_EMPTY_PATH are fstat on a descriptor (glibc's fstat since
/// 2.33): they name no path and are very frequent, so the filter lets them run unstopped.
fn empty_path_exempt(nr: i64) -> Result<Vec<seccompiler::SeccompRule>, seccompiler::BackendError> {
    use seccompiler::{SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};
    const AT_EMPTY_PATH: u64 = 0x1000;
    let flags_arg = match nr {
        libc::SYS_newfstatat => 3,
        libc::SYS_statx => 2,
        _ => return Ok(Vec::new()),
    };
    let cond = SeccompCondition::new(
        flags_arg,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::MaskedEq(AT_EMPTY_PATH),
        0,
    )?;
    Ok(vec![SeccompRule::new(vec![cond])?])
}

/// Build the seccomp filters (before the fork: the child must not allocate).
fn filters(spec: &TraceSpec) -> Result<Vec<seccompiler::BpfProgram>, SysError> {
    build_filters(&spec.traced, &spec.refused)
}

/// The seccomp filters that stop at `traced` system calls and refuse `refused` ones.
pub(crate) fn build_filters(
    traced: &[i64],
    refused: &[(i64, u32)],
) -> Result<Vec<seccompiler::BpfProgram>, SysError> {
    use seccompiler::{SeccompAction, SeccompFilter, TargetArch};
    let bad = |e: seccompiler::BackendError| {
        SysError::new("seccomp filter", e.to_string(), Errno::EINVAL)
    };
    let mut out = Vec::new();
    let traced: BTreeMap<i64, Vec<seccompiler::SeccompRule>> = traced
        .iter()
        .map(|&nr| Ok((nr, empty_path_exempt(nr)?)))
        .collect::<Result<_, seccompiler::BackendError>>()
        .map_err(bad)?;
    let f = SeccompFilter::new(
        traced,
        SeccompAction::Allow,
        SeccompAction::Trace(0),
        TargetArch::x86_64,
    )
    .map_err(bad)?;
    out.push(f.try_into().map_err(bad)?);
    for &(nr, errno) in refused {
        let f = SeccompFilter::new(
            [(nr, Vec::new())].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(errno),
            TargetArch::x86_64,
        )
        .map_err(bad)?;
        out.push(f.try_into().map_err(bad)?);
    }
    Ok(out)
}

/// Run `spec` under the tracer, reporting to `observer`, until the traced command and every
/// process it started have ended. If cordon dies, PTRACE_O_EXITKILL kills the tracees.
pub fn trace(spec: &TraceSpec, observer: &mut dyn Observer) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let programs = filters(spec).map_err(LaunchError::Setup)?;
    let (err_read, err_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;

    // SAFETY: cordon is single-threaded when it traces (the caller's contract, as for
    // sandbox::launch), so the child may run any code; it only makes system calls and execs.
    let child = match unsafe { nix::unistd::fork() }.map_err(setup("fork"))? {
        ForkResult::Child => tracee_main(spec, &programs, err_write.as_raw_fd()),
        ForkResult::Parent { child } => child,
    };
    drop(err_write);

    start_tracing(child).map_err(LaunchError::Setup)?;
    observer.spawned(child.as_raw(), 0);
    let outcome = tracer_loop(child, observer, &mut || {});
    finish_exec_errors(
        &spec.exec_candidates,
        &spec.argv,
        err_read.as_raw_fd(),
        outcome,
    )
}

/// Wait for a new tracee's SIGSTOP (it stops itself after PTRACE_TRACEME), set the tracing
/// options and let it go on.
pub(crate) fn start_tracing(child: Pid) -> Result<(), SysError> {
    let setup = |call: &'static str| move |e: Errno| SysError::new(call, "", e);
    match waitpid(child, None) {
        Ok(WaitStatus::Stopped(_, Signal::SIGSTOP)) => {}
        Ok(other) => {
            return Err(SysError::new(
                "ptrace",
                format!("tracee did not stop: {other:?}"),
                Errno::ECHILD,
            ))
        }
        Err(e) => return Err(setup("waitpid")(e)),
    }
    ptrace::setoptions(
        child,
        Options::PTRACE_O_TRACESYSGOOD
            | Options::PTRACE_O_TRACEFORK
            | Options::PTRACE_O_TRACEVFORK
            | Options::PTRACE_O_TRACECLONE
            | Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_TRACESECCOMP
            | Options::PTRACE_O_EXITKILL,
    )
    .map_err(setup("ptrace(PTRACE_SETOPTIONS)"))?;
    ptrace::cont(child, None).map_err(setup("ptrace(PTRACE_CONT)"))?;
    Ok(())
}

/// An exec failure of the command itself (a record of [`exec_candidates`] on `err_fd`) is
/// reported like the sandbox does.
pub(crate) fn finish_exec_errors(
    exec_candidates: &[CString],
    argv: &[CString],
    err_fd: i32,
    outcome: Outcome,
) -> Result<Outcome, LaunchError> {
    let mut buf = [0u8; 8];
    let n = nix::unistd::read(err_fd, &mut buf).unwrap_or(0);
    if n == 8 {
        let errno = Errno::from_raw(i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]));
        let which = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
        let path = exec_candidates
            .get(which)
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Err(match errno {
            Errno::ENOENT | Errno::ENOTDIR => LaunchError::NotFound {
                command: argv
                    .first()
                    .map(|a| a.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            },
            errno => LaunchError::CannotExecute { path, errno },
        });
    }
    Ok(outcome)
}

/// Per-tracee state: whether it is between a seccomp stop and its syscall-exit stop.
#[derive(Default)]
struct TraceeState {
    in_syscall: bool,
    /// Seen its first stop (new tracees start with a SIGSTOP to swallow).
    started: bool,
}

/// Follow every tracee until all have ended. `on_interrupt` runs when waiting was interrupted
/// by a signal (the sandbox's init forwards signals from there).
pub(crate) fn tracer_loop(
    root: Pid,
    observer: &mut dyn Observer,
    on_interrupt: &mut dyn FnMut(),
) -> Outcome {
    let mut states: HashMap<Pid, TraceeState> = HashMap::new();
    states.insert(
        root,
        TraceeState {
            started: true,
            ..Default::default()
        },
    );
    let mut root_outcome = Outcome::Exited(0);
    loop {
        let status = match waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)) {
            Ok(s) => s,
            Err(Errno::EINTR) => {
                on_interrupt();
                continue;
            }
            Err(_) => {
                // ECHILD: every tracee is gone.
                observer.finished(root_outcome.code());
                return root_outcome;
            }
        };
        match status {
            WaitStatus::Exited(pid, code) => {
                states.remove(&pid);
                observer.ended(pid.as_raw(), code);
                if pid == root {
                    root_outcome = Outcome::Exited(code);
                }
            }
            WaitStatus::Signaled(pid, sig, _) => {
                states.remove(&pid);
                observer.ended(pid.as_raw(), 128 + sig as i32);
                if pid == root {
                    root_outcome = Outcome::Signaled(sig as i32);
                }
            }
            WaitStatus::PtraceEvent(pid, _, event) => {
                if matches!(
                    event,
                    libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE
                ) {
                    if let Ok(new) = ptrace::getevent(pid) {
                        observer.spawned(new as i32, pid.as_raw());
                        states.entry(Pid::from_raw(new as i32)).or_default();
                    }
                }
                let state = states.entry(pid).or_default();
                state.started = true;
                let resume_syscall = match event {
                    libc::PTRACE_EVENT_SECCOMP => {
                        if let Ok(regs) = ptrace::getregs(pid) {
                            let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
                            observer.entry(&Tracee { pid }, regs.orig_rax as i64, args);
                            state.in_syscall = true;
                        }
                        state.in_syscall
                    }
                    libc::PTRACE_EVENT_EXEC => {
                        observer.executed(pid.as_raw());
                        state.in_syscall
                    }
                    _ => state.in_syscall,
                };
                let _ = if resume_syscall {
                    ptrace::syscall(pid, None)
                } else {
                    ptrace::cont(pid, None)
                };
            }
            WaitStatus::PtraceSyscall(pid) => {
                let state = states.entry(pid).or_default();
                if state.in_syscall {
                    if let Ok(regs) = ptrace::getregs(pid) {
                        observer.exit(pid.as_raw(), regs.rax as i64);
                    }
                    state.in_syscall = false;
                }
                let _ = ptrace::cont(pid, None);
            }
            WaitStatus::Stopped(pid, sig) => {
                let state = states.entry(pid).or_default();
                if !state.started && sig == Signal::SIGSTOP {
                    // The stop every new tracee starts with.
                    state.started = true;
                    let _ = ptrace::cont(pid, None);
                } else {
                    // A signal for the tracee: deliver it.
                    let _ = ptrace::cont(pid, Some(sig));
                }
            }
            _ => {}
        }
    }
}

/// The tracee's side of the fork: ask to be traced, stop until the tracer is ready, install
/// the filters, exec. Failures of exec go to `err_fd` as (errno, candidate index).
fn tracee_main(spec: &TraceSpec, programs: &[seccompiler::BpfProgram], err_fd: i32) -> ! {
    crate::raw::default_sigpipe();
    if become_tracee(programs).is_err() {
        crate::raw::exit_now(125);
    }
    if nix::unistd::chdir(spec.cwd.as_c_str()).is_err() {
        crate::raw::exit_now(125);
    }
    exec_candidates(&spec.exec_candidates, &spec.argv, &spec.envp, err_fd)
}

/// Exec the first candidate that can be executed, searching like execvp(3). On failure write
/// (errno, candidate index) to `err_fd` for [`finish_exec_errors`] and exit 127 or 126.
pub(crate) fn exec_candidates(
    candidates: &[CString],
    argv: &[CString],
    envp: &[CString],
    err_fd: i32,
) -> ! {
    let fail = |errno: Errno, which: u32| -> ! {
        let mut rec = [0u8; 8];
        rec[..4].copy_from_slice(&(errno as i32).to_ne_bytes());
        rec[4..].copy_from_slice(&which.to_ne_bytes());
        // SAFETY: err_fd is the write end of a pipe this process owns until exec or exit.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(err_fd) };
        let _ = nix::unistd::write(fd.as_fd(), &rec);
        crate::raw::exit_now(if matches!(errno, Errno::ENOENT) {
            127
        } else {
            126
        })
    };
    let mut denied: Option<u32> = None;
    for (i, cand) in candidates.iter().enumerate() {
        let cand: &CStr = cand.as_c_str();
        let e = match nix::unistd::execve(cand, argv, envp) {
            Err(e) => e,
            Ok(never) => match never {},
        };
        match e {
            Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
            Errno::EACCES => denied = denied.or(Some(i as u32)),
            e => fail(e, i as u32),
        }
    }
    match denied {
        Some(i) => fail(Errno::EACCES, i),
        None => fail(Errno::ENOENT, 0),
    }
}

/// In a child about to exec: ask to be traced, stop until the tracer has set its options,
/// then install the filters (which also set no_new_privs).
pub(crate) fn become_tracee(programs: &[seccompiler::BpfProgram]) -> Result<(), Errno> {
    ptrace::traceme()?;
    nix::sys::signal::raise(Signal::SIGSTOP)?;
    for p in programs {
        seccompiler::apply_filter(p).map_err(|_| Errno::EPERM)?;
    }
    Ok(())
}

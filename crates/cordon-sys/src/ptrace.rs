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
    /// Confine the command as the direct backends do (no capability, no mounts or
    /// namespaces; see [`crate::direct`]), and refuse network sockets when `no_network`.
    pub confine: bool,
    pub no_network: bool,
}

/// Receives what the tracee does. Calls happen while the tracee is stopped, so the observer
/// can read its memory ([`Tracee`]) and /proc entries (cwd, fds) as they are at that moment.
pub trait Observer {
    /// `pid` was created by `parent` (fork, vfork or clone).
    fn spawned(&mut self, pid: i32, parent: i32);
    /// `pid` executed a new program.
    fn executed(&mut self, pid: i32);
    /// `pid` is about to make system call `nr` with `args`; the answer says whether it runs
    /// as it is, fails, or runs with other paths.
    fn entry(&mut self, tracee: &Tracee, nr: i64, args: [u64; 6]) -> Action;
    /// The system call `pid` entered has returned `ret` (negative: -errno).
    fn exit(&mut self, pid: i32, ret: i64);
    /// `pid` ended with `status` (exit status, or 128 + signal).
    fn ended(&mut self, pid: i32, status: i32);
    /// The traced command and all it started have ended; `status` is the command's.
    fn finished(&mut self, _status: i32) {}
    /// Whether [`Observer::exit`] must see every call's result (a recorder), or only those
    /// whose [`Action`] changes it (an enforcer that records nothing).
    fn wants_exit(&self) -> bool {
        true
    }
}

/// What to do with a stopped system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Let it run.
    Continue,
    /// Skip it; it returns -errno.
    Fail(i32),
    /// Run it with these arguments replaced by pointers to these NUL-free strings (written
    /// into the tracee's stack, below the red zone).
    Rewrite(Vec<(usize, Vec<u8>)>),
    /// A getdents or getdents64 call: let it run, then remove from the entries it returns
    /// those named in `drop`, and, when `keep_only` is given, those not named there.
    FilterDirents {
        drop: Vec<Vec<u8>>,
        keep_only: Option<Vec<Vec<u8>>>,
    },
    /// A getcwd call: let it run, then replace a leading `from` (whole components) in the
    /// directory it returns with `to`, for the first pair that matches.
    TranslateCwd(PrefixPairs),
}

/// Prefix pairs `(from, to)` of [`Action::TranslateCwd`].
type PrefixPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// A directory listing to filter at the syscall-exit stop.
struct DirentFilter {
    /// The buffer (getdents' second argument).
    buf: u64,
    /// linux_dirent64 (getdents64) rather than linux_dirent.
    is64: bool,
    drop: Vec<Vec<u8>>,
    keep_only: Option<Vec<Vec<u8>>>,
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
    trace_with(spec, &mut || Ok(()), observer)
}

/// [`trace`], with `before_exec` run in the tracee just before it becomes one (a Landlock
/// ruleset is applied there); its failure ends the tracee with status 125.
pub fn trace_with(
    spec: &TraceSpec,
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    observer: &mut dyn Observer,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let mut programs = filters(spec).map_err(LaunchError::Setup)?;
    if spec.confine {
        programs.extend(
            crate::direct::confinement_filters(true, !spec.no_network)
                .map_err(LaunchError::Setup)?,
        );
    }
    let (err_read, err_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;

    // SAFETY: cordon is single-threaded when it traces (the caller's contract, as for
    // sandbox::launch), so the child may run any code; it only makes system calls and execs.
    let child = match unsafe { nix::unistd::fork() }.map_err(setup("fork"))? {
        ForkResult::Child => tracee_main(spec, &programs, before_exec, err_write.as_raw_fd()),
        ForkResult::Parent { child } => child,
    };
    drop(err_write);

    start_tracing(child).map_err(LaunchError::Setup)?;
    observer.spawned(child.as_raw(), 0);
    // Signals sent to cordon (kill, a batch system's TERM) go to the command, whose handler
    // decides; a terminal's ^C reaches it directly (same process group).
    let _ = crate::raw::forward_signals(child.as_raw(), &crate::sandbox::FORWARDED);
    let outcome = tracer_loop(child, observer);
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
    /// The errno to return at the syscall-exit stop of a skipped call.
    fail: Option<i32>,
    /// Entries to remove from a listing at the syscall-exit stop.
    dirents: Option<DirentFilter>,
    /// getcwd's buffer, its size, and the prefixes to translate at the syscall-exit stop.
    cwd: Option<(u64, u64, PrefixPairs)>,
    /// Seen its first stop (new tracees start with a SIGSTOP to swallow).
    started: bool,
}

/// Follow every tracee until all have ended.
pub(crate) fn tracer_loop(root: Pid, observer: &mut dyn Observer) -> Outcome {
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
            Err(Errno::EINTR) => continue,
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
                            let action =
                                observer.entry(&Tracee { pid }, regs.orig_rax as i64, args);
                            state.dirents = match action {
                                Action::FilterDirents {
                                    ref drop,
                                    ref keep_only,
                                } => Some(DirentFilter {
                                    buf: regs.rsi,
                                    is64: regs.orig_rax as i64 == libc::SYS_getdents64,
                                    drop: drop.clone(),
                                    keep_only: keep_only.clone(),
                                }),
                                _ => None,
                            };
                            state.cwd = match action {
                                Action::TranslateCwd(ref pairs) => {
                                    Some((regs.rdi, regs.rsi, pairs.clone()))
                                }
                                _ => None,
                            };
                            // The exit stop is only needed to record the result or to
                            // change it; without it the call runs at full speed.
                            let at_exit = observer.wants_exit()
                                || !matches!(action, Action::Continue | Action::Rewrite(_));
                            state.fail = apply(pid, regs, action);
                            state.in_syscall = at_exit;
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
                    if let Ok(mut regs) = ptrace::getregs(pid) {
                        if let Some(errno) = state.fail.take() {
                            regs.rax = (-(errno as i64)) as u64;
                            let _ = ptrace::setregs(pid, regs);
                        }
                        if let Some(f) = state.dirents.take() {
                            filter_dirents(pid, &mut regs, &f);
                        }
                        if let Some((buf, size, pairs)) = state.cwd.take() {
                            translate_cwd(pid, &mut regs, buf, size, &pairs);
                        }
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

/// Carry out `action` on the stopped system call; the errno to return at its exit stop when
/// it is skipped.
fn apply(pid: Pid, mut regs: libc::user_regs_struct, action: Action) -> Option<i32> {
    match action {
        Action::Continue | Action::FilterDirents { .. } | Action::TranslateCwd(_) => None,
        Action::Fail(errno) => {
            // A system call number of -1 makes the kernel skip the call (ENOSYS, replaced at
            // the exit stop).
            regs.orig_rax = u64::MAX;
            ptrace::setregs(pid, regs).ok()?;
            Some(errno)
        }
        Action::Rewrite(strings) => {
            // Below the stack pointer and the 128-byte red zone that leaf functions may use,
            // as proot does; the memory is free until the call returns.
            let mut at = regs.rsp.wrapping_sub(128);
            let mut writes = Vec::new();
            for (arg, s) in &strings {
                at = (at - s.len() as u64 - 1) & !15;
                let mut buf = s.clone();
                buf.push(0);
                writes.push((at, buf));
                let reg = match arg {
                    0 => &mut regs.rdi,
                    1 => &mut regs.rsi,
                    2 => &mut regs.rdx,
                    3 => &mut regs.r10,
                    4 => &mut regs.r8,
                    _ => &mut regs.r9,
                };
                *reg = at;
            }
            for (addr, buf) in &writes {
                if !write_memory(pid, *addr, buf) {
                    regs.orig_rax = u64::MAX;
                    let _ = ptrace::setregs(pid, regs);
                    return Some(libc::ENOMEM);
                }
            }
            if ptrace::setregs(pid, regs).is_err() {
                return Some(libc::ENOMEM);
            }
            None
        }
    }
}

/// Remove entries from the listing a getdents call just returned (`regs.rax` bytes at
/// `f.buf`). When every entry of a non-empty batch goes, the call is made again (the
/// instruction pointer back over the 2-byte `syscall`), since 0 would mean the end.
fn filter_dirents(pid: Pid, regs: &mut libc::user_regs_struct, f: &DirentFilter) {
    let len = regs.rax as i64;
    if len <= 0 {
        return;
    }
    let Some(buf) = read_bytes(pid, f.buf, len as usize) else {
        return;
    };
    let Some(out) = crate::hostfs::filter_dirents(&buf, f.is64, &f.drop, f.keep_only.as_deref())
    else {
        return;
    };
    if out.len() == buf.len() {
        return;
    }
    if out.is_empty() {
        regs.rip -= 2;
        regs.rax = regs.orig_rax;
    } else {
        if !write_memory(pid, f.buf, &out) {
            return;
        }
        regs.rax = out.len() as u64;
    }
    let _ = ptrace::setregs(pid, *regs);
}

/// Replace a leading host prefix in the directory getcwd just returned (`regs.rax` bytes,
/// its NUL included, at `buf`), so that the tracee sees its working directory by the path the
/// view shows it at. ERANGE when the translation does not fit in `size`.
fn translate_cwd(
    pid: Pid,
    regs: &mut libc::user_regs_struct,
    buf: u64,
    size: u64,
    pairs: &[(Vec<u8>, Vec<u8>)],
) {
    let len = regs.rax as i64;
    if len <= 1 {
        return;
    }
    let Some(cwd) = read_bytes(pid, buf, len as usize - 1) else {
        return;
    };
    let Some(out) = pairs.iter().find_map(|(from, to)| {
        let rest = cwd.strip_prefix(from.as_slice())?;
        (rest.is_empty() || rest[0] == b'/').then(|| [to.as_slice(), rest].concat())
    }) else {
        return;
    };
    let mut out = if out.is_empty() { b"/".to_vec() } else { out };
    out.push(0);
    if out.len() as u64 > size {
        regs.rax = (-(libc::ERANGE as i64)) as u64;
    } else if write_memory(pid, buf, &out) {
        regs.rax = out.len() as u64;
    } else {
        return;
    }
    let _ = ptrace::setregs(pid, *regs);
}

/// `len` bytes at `addr` in process `pid`; None unless all of them could be read.
pub(crate) fn read_bytes(pid: Pid, addr: u64, len: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let n = process_vm_readv(
        pid,
        &mut [std::io::IoSliceMut::new(&mut buf)],
        &[RemoteIoVec {
            base: addr as usize,
            len,
        }],
    )
    .ok()?;
    (n == len).then_some(buf)
}

/// Write `buf` at `addr` in process `pid`; true when all of it was written.
pub(crate) fn write_memory(pid: Pid, addr: u64, buf: &[u8]) -> bool {
    nix::sys::uio::process_vm_writev(
        pid,
        &[std::io::IoSlice::new(buf)],
        &[RemoteIoVec {
            base: addr as usize,
            len: buf.len(),
        }],
    )
    .map(|n| n == buf.len())
    .unwrap_or(false)
}

/// The tracee's side of the fork: ask to be traced, stop until the tracer is ready, install
/// the filters, exec. Failures of exec go to `err_fd` as (errno, candidate index).
fn tracee_main(
    spec: &TraceSpec,
    programs: &[seccompiler::BpfProgram],
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    err_fd: i32,
) -> ! {
    crate::raw::default_sigpipe();
    if spec.confine
        && nix::unistd::geteuid().is_root()
        && crate::raw::drop_capabilities(true).is_err()
    {
        crate::raw::exit_now(125);
    }
    if before_exec().is_err() {
        crate::raw::exit_now(125);
    }
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

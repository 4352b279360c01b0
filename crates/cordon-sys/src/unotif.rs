//! A supervisor of system calls through seccomp user notification (Linux 5.0; sending a file
//! descriptor as the reply needs 5.14): a seccomp filter suspends the command at each system
//! call of interest and hands it to cordon, which answers on the command's behalf: let it run,
//! fail it with an errno, make it return a value, or make it return a descriptor cordon opened.
//! Every other call runs at full speed, and unlike ptrace the command can still be traced.
//!
//! # Enforces
//! The answers of the [`Supervisor`] for the `notified` system calls of every process the
//! command starts (the filter is inherited across fork, clone and exec and cannot be removed);
//! the `refused` system calls fail with their errno; with `drop_capabilities`, the command runs
//! without any capability even as uid 0.
//!
//! # Observes
//! Each notified call: the process, the call number, its six arguments, and the memory they
//! point to ([`Memory`]) while the call is suspended.
//!
//! # Requires
//! Linux 5.0 for user notification, 5.5 for [`Reply::Continue`], 5.14 for [`Reply::SendFd`];
//! 6.6 makes each round trip about five times cheaper (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`,
//! used when present). No root, no user namespace: no_new_privs is enough to install the
//! filter. Reading the command's memory uses process_vm_readv, which Yama's ptrace_scope 0 and
//! 1 allow on one's own descendants. x86_64 only, like the filters of [`crate::ptrace`].
//!
//! # Gaps
//! - Time of check, time of use: another thread of the command can change a path in memory
//!   between the supervisor's read and the kernel's own read after [`Reply::Continue`], so
//!   Continue is advisory. Only replies that do the call on the command's behalf
//!   ([`Reply::SendFd`], [`Reply::Errno`], [`Reply::Value`]) are enforced.
//! - Processes that outlive a killed cordon (only the command itself gets PR_SET_PDEATHSIG)
//!   keep the filter; their notified calls then fail with ENOSYS.
//! - The listener descriptor reaches cordon with sendmsg after the filter is installed, so
//!   sendmsg itself cannot be notified ([`supervise`] refuses such a spec).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use crate::error::SysError;
use crate::sandbox::{LaunchError, Outcome};

/// What to run under the supervisor.
#[derive(Debug, Clone)]
pub struct NotifySpec {
    pub cwd: CString,
    /// Paths to try to execute, in order (the `PATH` search, done in advance).
    pub exec_candidates: Vec<CString>,
    pub argv: Vec<CString>,
    /// `NAME=VALUE` strings.
    pub envp: Vec<CString>,
    /// System call numbers sent to the supervisor. newfstatat and statx with AT_EMPTY_PATH
    /// (fstat on a descriptor) are exempt, as for the tracer. Must not contain sendmsg.
    pub notified: Vec<i64>,
    /// System calls refused with an errno without running (io_uring_setup: a ring would
    /// carry file operations past the supervisor).
    pub refused: Vec<(i64, u32)>,
    /// As root: lock SECBIT_NOROOT, empty the bounding set and clear the ambient and
    /// inheritable sets before exec, so that the command runs as uid 0 without any capability.
    pub drop_capabilities: bool,
    /// Let system calls made from this instruction pointer (the address after a `syscall`
    /// instruction) through without a notification: the preload shim's stub, from which it
    /// makes its own path walks' calls (see `cordon_preload::FAST_PATH_IP`).
    pub allow_ip: Option<u64>,
    /// Refuse mounts and namespaces as the direct backends do ([`crate::direct`]).
    pub confine: bool,
    /// Refuse IPv4, IPv6 and packet sockets.
    pub no_network: bool,
}

/// One suspended system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The kernel's cookie for this notification.
    pub id: u64,
    /// The calling thread, in cordon's pid namespace.
    pub pid: i32,
    /// The system call number.
    pub nr: i64,
    pub args: [u64; 6],
}

/// The answer to a [`Request`].
#[derive(Debug)]
pub enum Reply {
    /// Let the call run as the command made it (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
    Continue,
    /// Fail the call with this errno, without running it.
    Errno(i32),
    /// The call returns this value without running.
    Value(i64),
    /// Install `fd` in the caller (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND,
    /// Linux 5.14): the call returns the new descriptor's number there.
    SendFd { fd: OwnedFd, cloexec: bool },
}

/// Access to the caller's memory while its notification is pending.
pub struct Memory {
    pid: Pid,
    notify_fd: RawFd,
    id: u64,
}

impl Memory {
    /// The NUL-terminated string at `addr` (at most 4096 bytes), read page by page.
    pub fn read_cstring(&self, addr: u64) -> Option<Vec<u8>> {
        crate::ptrace::read_cstring(self.pid, addr)
    }

    /// `len` bytes at `addr`; None unless all of them could be read.
    pub fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        crate::ptrace::read_bytes(self.pid, addr, len)
    }

    /// Write `data` at `addr` (process_vm_writev); true when all of it was written.
    pub fn write(&self, addr: u64, data: &[u8]) -> bool {
        crate::ptrace::write_memory(self.pid, addr, data)
    }

    /// The request is still pending (SECCOMP_IOCTL_NOTIF_ID_VALID): the caller did not die and
    /// its pid was not reused. Call it after reading memory and before acting on what was read.
    pub fn valid(&self) -> bool {
        // SAFETY: ID_VALID reads one u64 from a valid pointer; notify_fd is the listener,
        // open for as long as this Memory exists.
        let r = unsafe {
            libc::ioctl(
                self.notify_fd,
                libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
                &self.id as *const u64,
            )
        };
        r == 0
    }
}

/// Decides every notified system call.
pub trait Supervisor {
    /// Called while the caller is suspended; `mem` reads its memory.
    fn decide(&mut self, req: &Request, mem: &Memory) -> Reply;
}

impl<F: FnMut(&Request, &Memory) -> Reply> Supervisor for F {
    fn decide(&mut self, req: &Request, mem: &Memory) -> Reply {
        self(req, mem)
    }
}

const _: () = assert!(std::mem::size_of::<libc::seccomp_data>() == 64);
const _: () = assert!(std::mem::size_of::<libc::seccomp_notif>() == 80);
const _: () = assert!(std::mem::size_of::<libc::seccomp_notif_resp>() == 24);
const _: () = assert!(std::mem::size_of::<libc::seccomp_notif_addfd>() == 24);
/// Wake the supervisor on the CPU of the caller (Linux 6.6; not yet in libc).
const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;
/// BPF_RET | BPF_K: return the constant `k`.
const BPF_RET_K: u16 = 0x06;

/// The filters: first the one whose listener reaches the supervisor, then the refused calls.
fn build_filters(spec: &NotifySpec) -> Result<Vec<seccompiler::BpfProgram>, SysError> {
    if spec.notified.contains(&libc::SYS_sendmsg) {
        return Err(SysError::new(
            "seccomp filter",
            "sendmsg cannot be notified: it carries the listener",
            Errno::EINVAL,
        ));
    }
    let mut programs = crate::ptrace::build_filters(&spec.notified, &spec.refused)?;
    to_user_notif(&mut programs[0]);
    if let Some(ip) = spec.allow_ip {
        allow_from(&mut programs[0], ip);
    }
    programs.extend(crate::direct::confinement_filters(
        spec.confine,
        !spec.no_network,
    )?);
    Ok(programs)
}

/// Prepend to `program`: a call whose instruction pointer is `ip` is allowed. The rest of
/// the program keeps its relative jumps, and reloads what it reads.
fn allow_from(program: &mut seccompiler::BpfProgram, ip: u64) {
    use seccompiler::sock_filter;
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
                             // struct seccomp_data: nr (4), arch (4), instruction_pointer (8, little-endian here).
    let ins = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    let head = [
        ins(LD_W_ABS, 0, 0, 8),
        ins(JEQ_K, 0, 3, ip as u32),
        ins(LD_W_ABS, 0, 0, 12),
        ins(JEQ_K, 0, 1, (ip >> 32) as u32),
        ins(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    program.splice(0..0, head);
}

/// seccompiler 0.5 has no user-notification action: the tracer's filter is built with
/// SECCOMP_RET_TRACE and each of its returns is rewritten to SECCOMP_RET_USER_NOTIF.
fn to_user_notif(program: &mut seccompiler::BpfProgram) {
    for ins in program.iter_mut() {
        if ins.code == BPF_RET_K && ins.k == libc::SECCOMP_RET_TRACE {
            ins.k = libc::SECCOMP_RET_USER_NOTIF;
        }
    }
}

/// Run `spec`; every notified system call goes through `sup`. `before_exec` runs in the child
/// after chdir and before the filters are installed (a Landlock ruleset goes there); its error
/// fails the launch. Returns the command's outcome once the command and every process it
/// started have ended (cordon is their subreaper meanwhile). Must be called from a
/// single-threaded process.
pub fn supervise(
    spec: &NotifySpec,
    before_exec: &mut dyn FnMut() -> Result<(), Errno>,
    sup: &mut dyn Supervisor,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let programs = build_filters(spec).map_err(LaunchError::Setup)?;

    let mut was_subreaper: libc::c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through a valid pointer.
    let r = unsafe {
        libc::prctl(
            libc::PR_GET_CHILD_SUBREAPER,
            &mut was_subreaper as *mut libc::c_int,
        )
    };
    if r < 0 {
        return Err(setup("prctl(PR_GET_CHILD_SUBREAPER)")(Errno::last()));
    }
    set_subreaper(true).map_err(setup("prctl(PR_SET_CHILD_SUBREAPER)"))?;

    // Block the signals handled through the signalfd before the fork, so none is lost; the
    // child restores the mask.
    let mut old_mask = SigSet::empty();
    let blocked = nix::sys::signal::sigprocmask(
        SigmaskHow::SIG_BLOCK,
        Some(&crate::sandbox::forwarded_set()),
        Some(&mut old_mask),
    );
    let result = match blocked {
        Ok(()) => supervise_blocked(spec, &programs, &old_mask, before_exec, sup),
        Err(e) => Err(setup("sigprocmask")(e)),
    };
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
    let _ = set_subreaper(was_subreaper != 0);
    result
}

fn set_subreaper(on: bool) -> Result<(), Errno> {
    // SAFETY: integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, on as libc::c_ulong, 0, 0, 0) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// The steps of the child's setup, as reported on the socket when one fails.
const STEPS: [&str; 8] = [
    "",
    "prctl(PR_SET_PDEATHSIG)",
    "prctl(PR_SET_SECUREBITS) and capset",
    "chdir",
    "before exec",
    "prctl(PR_SET_NO_NEW_PRIVS)",
    "seccomp(SECCOMP_SET_MODE_FILTER)",
    "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)",
];
const STEP_PDEATHSIG: u32 = 1;
const STEP_CAPS: u32 = 2;
const STEP_CHDIR: u32 = 3;
const STEP_BEFORE_EXEC: u32 = 4;
const STEP_NO_NEW_PRIVS: u32 = 5;
const STEP_REFUSED: u32 = 6;
const STEP_LISTENER: u32 = 7;

fn supervise_blocked(
    spec: &NotifySpec,
    programs: &[seccompiler::BpfProgram],
    old_mask: &SigSet,
    before_exec: &mut dyn FnMut() -> Result<(), Errno>,
    sup: &mut dyn Supervisor,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let sfd = SignalFd::with_flags(
        &crate::sandbox::forwarded_set(),
        SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
    )
    .map_err(setup("signalfd"))?;
    let (err_read, err_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
    let (sock_parent, sock_child) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(setup("socketpair"))?;
    let parent = nix::unistd::getpid();

    // SAFETY: cordon is single-threaded when it supervises (the caller's contract, as for
    // sandbox::launch), so the child may run any code; it only makes system calls and execs.
    let child = match unsafe { nix::unistd::fork() }.map_err(setup("fork"))? {
        ForkResult::Child => {
            drop(sfd);
            drop(sock_parent);
            child_main(ChildArgs {
                spec,
                programs,
                old_mask,
                parent,
                before_exec,
                sock: sock_child.as_raw_fd(),
                err_fd: err_write.as_raw_fd(),
            })
        }
        ForkResult::Parent { child } => child,
    };
    drop(err_write);
    drop(sock_child);

    let listener = match receive_listener(&sock_parent, spec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = kill(child, Signal::SIGKILL);
            reap_all(child);
            return Err(LaunchError::Setup(e));
        }
    };
    drop(sock_parent);
    // SAFETY: SET_FLAGS reads nothing but its integer argument. EINVAL (or ENOTTY) before
    // Linux 6.6: wake-ups then go to any CPU, which is slower but correct.
    let _ = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    let outcome = serve(child, &listener, &sfd, sup);
    crate::ptrace::finish_exec_errors(
        &spec.exec_candidates,
        &spec.argv,
        err_read.as_raw_fd(),
        outcome,
    )
}

/// The listener the child sends just before exec, or the step of its setup that failed.
fn receive_listener(sock: &OwnedFd, spec: &NotifySpec) -> Result<OwnedFd, SysError> {
    let mut rec = [0u8; 8];
    let mut cmsg = nix::cmsg_space!(RawFd);
    loop {
        let mut iov = [std::io::IoSliceMut::new(&mut rec)];
        let msg = match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(m) => m,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(SysError::new("recvmsg", "seccomp listener", e)),
        };
        let mut fds = Vec::new();
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                if let ControlMessageOwned::ScmRights(got) = c {
                    fds.extend(got);
                }
            }
        }
        // SAFETY: SCM_RIGHTS installed these descriptors in this process for us alone.
        let mut fds: Vec<OwnedFd> = fds
            .into_iter()
            .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
            .collect();
        let n = msg.bytes;
        if n == 0 {
            return Err(SysError::new(
                "fork",
                "the child ended before it sent the seccomp listener",
                Errno::ECHILD,
            ));
        }
        let step = u32::from_ne_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let errno = Errno::from_raw(i32::from_ne_bytes([rec[4], rec[5], rec[6], rec[7]]));
        if step == 0 {
            return match fds.len() {
                1 => Ok(fds.remove(0)),
                _ => Err(SysError::new("recvmsg", "seccomp listener", Errno::EBADMSG)),
            };
        }
        let call = STEPS.get(step as usize).copied().unwrap_or("setup");
        let arg = if step == STEP_CHDIR {
            spec.cwd.to_string_lossy().into_owned()
        } else {
            String::new()
        };
        return Err(SysError::new(call, arg, errno));
    }
}

struct ChildArgs<'a> {
    spec: &'a NotifySpec,
    programs: &'a [seccompiler::BpfProgram],
    old_mask: &'a SigSet,
    parent: Pid,
    before_exec: &'a mut dyn FnMut() -> Result<(), Errno>,
    sock: RawFd,
    err_fd: RawFd,
}

/// The command's side of the fork: set up, install the filters, send the listener, exec.
/// A failed step goes to the socket as (step, errno), and the child exits 125.
fn child_main(a: ChildArgs<'_>) -> ! {
    // SAFETY: sock is the child's end of the socketpair, open until exec or exit.
    let sock = unsafe { BorrowedFd::borrow_raw(a.sock) };
    let send = |step: u32, errno: i32, fd: Option<RawFd>| {
        let mut rec = [0u8; 8];
        rec[..4].copy_from_slice(&step.to_ne_bytes());
        rec[4..].copy_from_slice(&errno.to_ne_bytes());
        let iov = [std::io::IoSlice::new(&rec)];
        let fds = [fd.unwrap_or(-1)];
        let with_fd = [ControlMessage::ScmRights(&fds)];
        let cmsgs: &[ControlMessage] = if fd.is_some() { &with_fd } else { &[] };
        sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None)
    };
    let fail = |step: u32, e: Errno| -> ! {
        let _ = send(step, e as i32, None);
        crate::raw::exit_now(125)
    };

    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(a.old_mask), None);
    crate::raw::default_sigpipe();
    if let Err(e) = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL) {
        fail(STEP_PDEATHSIG, e);
    }
    // cordon died before PR_SET_PDEATHSIG took effect.
    if nix::unistd::getppid() != a.parent {
        crate::raw::exit_now(125);
    }
    if a.spec.drop_capabilities {
        if let Err(e) = crate::raw::drop_capabilities_at_exec() {
            fail(STEP_CAPS, e);
        }
    }
    if let Err(e) = nix::unistd::chdir(a.spec.cwd.as_c_str()) {
        fail(STEP_CHDIR, e);
    }
    if let Err(e) = (a.before_exec)() {
        fail(STEP_BEFORE_EXEC, e);
    }
    if let Err(e) = nix::sys::prctl::set_no_new_privs() {
        fail(STEP_NO_NEW_PRIVS, e);
    }
    for p in &a.programs[1..] {
        if seccompiler::apply_filter(p).is_err() {
            fail(STEP_REFUSED, Errno::EINVAL);
        }
    }
    // Last, since from here the notified calls wait for the supervisor, which has no
    // listener yet.
    let listener = match install_listener(&a.programs[0]) {
        Ok(fd) => fd,
        Err(e) => fail(STEP_LISTENER, e),
    };
    if send(0, 0, Some(listener)).is_err() {
        crate::raw::exit_now(125);
    }
    // The listener is close-on-exec (the kernel creates it so): the command never holds it.
    crate::ptrace::exec_candidates(
        &a.spec.exec_candidates,
        &a.spec.argv,
        &a.spec.envp,
        a.err_fd,
    )
}

/// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER): install `program` and
/// return its listener. Needs no_new_privs (or CAP_SYS_ADMIN).
fn install_listener(program: &seccompiler::BpfProgram) -> Result<RawFd, Errno> {
    let prog = libc::sock_fprog {
        len: program.len() as libc::c_ushort,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prog points to `program`, which outlives the call; the kernel copies it and
    // writes nothing. seccompiler's sock_filter has libc's layout (it is a re-export).
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const libc::sock_fprog,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(r as RawFd)
}

/// Answer notifications, reap every process (cordon is their subreaper) and forward signals
/// until no child is left; returns how `child` ended.
fn serve(child: Pid, listener: &OwnedFd, sfd: &SignalFd, sup: &mut dyn Supervisor) -> Outcome {
    let mut listener = Some(listener.as_fd());
    let mut outcome: Option<Outcome> = None;
    loop {
        let mut fds = [
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(listener.unwrap_or(sfd.as_fd()), PollFlags::POLLIN),
        ];
        let n = if listener.is_some() { 2 } else { 1 };
        match poll(&mut fds[..n], PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => {
                // Cannot wait for notifications: end the command rather than hang it.
                reap_all(child);
                return outcome.unwrap_or(Outcome::Exited(125));
            }
        }
        let signals = fds[0].revents().unwrap_or(PollFlags::empty());
        let notify = fds[1].revents().unwrap_or(PollFlags::empty());
        if let Some(l) = listener {
            if notify.contains(PollFlags::POLLIN) {
                answer_one(l, sup);
            } else if notify.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                // No process uses the filter any more.
                listener = None;
            }
        }
        if signals.contains(PollFlags::POLLIN) && handle_signals(child, sfd, &mut outcome) {
            return outcome.unwrap_or(Outcome::Exited(125));
        }
    }
}

/// Read the pending signals: reap on SIGCHLD, forward the others to `child` while it lives.
/// True when no child is left.
fn handle_signals(child: Pid, sfd: &SignalFd, outcome: &mut Option<Outcome>) -> bool {
    loop {
        let info = match sfd.read_signal() {
            Ok(Some(info)) => info,
            Ok(None) => return false,
            Err(Errno::EINTR) => continue,
            Err(_) => return false,
        };
        let signo = info.ssi_signo as i32;
        if signo == libc::SIGCHLD {
            if reap(child, outcome) {
                return true;
            }
            continue;
        }
        // si_code <= 0 (SI_USER, SI_QUEUE, SI_TKILL): sent by a process, not by the
        // terminal, whose signals reach the command directly (see sandbox::FORWARDED).
        if info.ssi_code <= 0 && outcome.is_none() {
            if let Ok(sig) = Signal::try_from(signo) {
                let _ = kill(child, sig);
            }
        }
    }
}

/// Reap every ended process without waiting, noting how `child` ended. True at ECHILD.
fn reap(child: Pid, outcome: &mut Option<Outcome>) -> bool {
    loop {
        match waitpid(
            None::<Pid>,
            Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL),
        ) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => {
                *outcome = Some(Outcome::Exited(code))
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                *outcome = Some(Outcome::Signaled(sig as i32))
            }
            Ok(WaitStatus::StillAlive) => return false,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return true,
        }
    }
}

/// Kill `child` and wait for every child, after a failed start.
fn reap_all(child: Pid) {
    let _ = kill(child, Signal::SIGKILL);
    while !matches!(waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)), Err(e) if e != Errno::EINTR) {}
}

/// Receive one notification, ask `sup`, send the reply. A caller that died meanwhile (ENOENT)
/// is no error.
fn answer_one(listener: BorrowedFd<'_>, sup: &mut dyn Supervisor) {
    // SAFETY: seccomp_notif is plain old data; the kernel requires it zeroed for RECV.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: RECV writes one seccomp_notif (size checked above) through a valid pointer.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut notif as *mut libc::seccomp_notif,
        )
    };
    if r < 0 {
        // ENOENT: the caller died before we received; EINTR: try again at the next poll.
        return;
    }
    let req = Request {
        id: notif.id,
        pid: notif.pid as i32,
        nr: notif.data.nr as i64,
        args: notif.data.args,
    };
    let mem = Memory {
        pid: Pid::from_raw(req.pid),
        notify_fd: listener.as_raw_fd(),
        id: req.id,
    };
    let reply = sup.decide(&req, &mem);
    let (val, error, flags) = match reply {
        Reply::Continue => (0, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
        Reply::Errno(e) => (0, -e, 0),
        Reply::Value(v) => (v, 0, 0),
        Reply::SendFd { fd, cloexec } => match send_fd(listener, req.id, fd, cloexec) {
            Ok(()) | Err(Errno::ENOENT) => return,
            // Not installed (EMFILE in the caller, or EINVAL before Linux 5.14): the call
            // fails with that errno instead.
            Err(e) => (0, -(e as i32), 0),
        },
    };
    match send_reply(listener, req.id, val, error, flags) {
        Ok(()) | Err(Errno::ENOENT) => {}
        // A reply this kernel refuses (Continue before Linux 5.5 is EINVAL) would leave the
        // caller suspended for ever: fail its call instead.
        Err(_) => {
            let _ = send_reply(listener, req.id, 0, -libc::ENOSYS, 0);
        }
    }
}

/// SECCOMP_IOCTL_NOTIF_SEND. ENOENT: the caller is gone.
fn send_reply(
    listener: BorrowedFd<'_>,
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
) -> Result<(), Errno> {
    let mut resp = libc::seccomp_notif_resp {
        id,
        val,
        error,
        flags,
    };
    // SAFETY: SEND reads one seccomp_notif_resp (size checked above) through a valid pointer
    // (the kernel may write it too, hence the mutable pointer).
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp as *mut libc::seccomp_notif_resp,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND: install `fd` in the caller and
/// answer the notification with its number there, in one step.
fn send_fd(listener: BorrowedFd<'_>, id: u64, fd: OwnedFd, cloexec: bool) -> Result<(), Errno> {
    let addfd = libc::seccomp_notif_addfd {
        id,
        flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
        srcfd: fd.as_raw_fd() as u32,
        newfd: 0,
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: ADDFD reads one seccomp_notif_addfd (size checked above) through a valid
    // pointer; fd stays open until after the call.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
            &addfd as *const libc::seccomp_notif_addfd,
        )
    };
    drop(fd);
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    /// Run `body` in a forked child, which is single-threaded (libtest's threads stay behind)
    /// and whose waitpid(-1) and subreaper flag cannot touch other tests' processes. A panic in
    /// the child fails the test with its message.
    fn isolated(body: impl FnOnce()) {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        // SAFETY: the child runs only the test body and then _exits; glibc's malloc is safe
        // to use after fork, and the body takes no lock another thread could hold.
        match unsafe { nix::unistd::fork() }.unwrap() {
            ForkResult::Child => {
                drop(r);
                let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
                let code = match res {
                    Ok(()) => 0,
                    Err(p) => {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "panic".into());
                        let _ = nix::unistd::write(&w, msg.as_bytes());
                        1
                    }
                };
                crate::raw::exit_now(code)
            }
            ForkResult::Parent { child } => {
                drop(w);
                let mut msg = Vec::new();
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                loop {
                    let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
                    let _ = poll(&mut fds, PollTimeout::from(200u16));
                    let mut buf = [0u8; 512];
                    if fds[0].revents().is_some_and(|f| !f.is_empty()) {
                        match nix::unistd::read(r.as_raw_fd(), &mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => msg.extend_from_slice(&buf[..n]),
                        }
                    }
                    if std::time::Instant::now() > deadline {
                        let _ = kill(child, Signal::SIGKILL);
                        msg.extend_from_slice(b"timed out");
                        break;
                    }
                }
                let status = waitpid(child, None).unwrap();
                assert_eq!(
                    status,
                    WaitStatus::Exited(child, 0),
                    "{}",
                    String::from_utf8_lossy(&msg)
                );
            }
        }
    }

    /// A scratch directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("cordon-unotif-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, text).unwrap();
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn c(s: impl AsRef<[u8]>) -> CString {
        CString::new(s.as_ref()).unwrap()
    }

    fn spec(argv: &[&str], notified: &[i64]) -> NotifySpec {
        let prog = argv[0];
        let exec_candidates = if prog.contains('/') {
            vec![c(prog)]
        } else {
            vec![c(format!("/usr/bin/{prog}")), c(format!("/bin/{prog}"))]
        };
        NotifySpec {
            cwd: c("/"),
            exec_candidates,
            argv: argv.iter().map(c).collect(),
            envp: vec![c("PATH=/usr/bin:/bin"), c("LC_ALL=C")],
            notified: notified.to_vec(),
            refused: Vec::new(),
            drop_capabilities: false,
            allow_ip: None,
            confine: false,
            no_network: false,
        }
    }

    /// Supervise `spec` with the command's stdout and stderr in `out`.
    fn run(
        spec: &NotifySpec,
        out: &Path,
        sup: &mut dyn Supervisor,
    ) -> Result<Outcome, LaunchError> {
        let file = std::fs::File::create(out).unwrap();
        let fd = file.as_raw_fd();
        let mut redirect = || {
            nix::unistd::dup2(fd, 1)?;
            nix::unistd::dup2(fd, 2)?;
            Ok(())
        };
        supervise(spec, &mut redirect, sup)
    }

    fn text(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    /// A supervisor that answers `reply` for openat of `path` and Continue otherwise.
    fn on_open(
        path: &Path,
        mut reply: impl FnMut() -> Reply,
    ) -> impl FnMut(&Request, &Memory) -> Reply {
        let path = path.as_os_str().as_bytes().to_vec();
        move |req: &Request, mem: &Memory| {
            if req.nr == libc::SYS_openat && mem.read_cstring(req.args[1]) == Some(path.clone()) {
                reply()
            } else {
                Reply::Continue
            }
        }
    }

    #[test]
    fn returns_are_rewritten_to_user_notif() {
        let s = spec(&["true"], &[libc::SYS_openat, libc::SYS_newfstatat]);
        let programs = build_filters(&NotifySpec {
            refused: vec![(libc::SYS_io_uring_setup, libc::ENOSYS as u32)],
            ..s
        })
        .unwrap();
        assert_eq!(programs.len(), 2);
        let rets = |k: u32| {
            programs[0]
                .iter()
                .filter(|i| i.code == BPF_RET_K && i.k == k)
                .count()
        };
        assert!(rets(libc::SECCOMP_RET_USER_NOTIF) >= 2);
        assert_eq!(rets(libc::SECCOMP_RET_TRACE), 0);
        assert!(rets(libc::SECCOMP_RET_ALLOW) >= 1);
        // The refused calls' filter is left alone.
        assert!(programs[1]
            .iter()
            .any(|i| i.code == BPF_RET_K && i.k == libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32));
    }

    #[test]
    fn sendmsg_cannot_be_notified() {
        let err = supervise(
            &spec(&["true"], &[libc::SYS_sendmsg]),
            &mut || Ok(()),
            &mut |_: &Request, _: &Memory| Reply::Continue,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            LaunchError::Setup(SysError {
                errno: Errno::EINVAL,
                ..
            })
        ));
    }

    #[test]
    fn errno_reply_fails_the_open() {
        isolated(|| {
            let dir = Scratch::new("errno");
            let file = dir.write("data", "hello\n");
            let out = dir.0.join("out");
            let mut sup = on_open(&file, || Reply::Errno(libc::ENOENT));
            let s = spec(&["cat", file.to_str().unwrap()], &[libc::SYS_openat]);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(1));
            let o = text(&out);
            assert!(o.contains("No such file"), "{o}");
            assert!(!o.contains("hello"), "{o}");
        });
    }

    #[test]
    fn send_fd_substitutes_the_file() {
        isolated(|| {
            let dir = Scratch::new("sendfd");
            let file = dir.write("data", "original\n");
            let other = dir.write("other", "substitute\n");
            let out = dir.0.join("out");
            let mut sup = on_open(&file, || Reply::SendFd {
                fd: std::fs::File::open(&other).unwrap().into(),
                cloexec: true,
            });
            let s = spec(&["cat", file.to_str().unwrap()], &[libc::SYS_openat]);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(0));
            assert_eq!(text(&out), "substitute\n");
        });
    }

    #[test]
    fn value_reply_is_returned() {
        isolated(|| {
            let dir = Scratch::new("value");
            let out = dir.0.join("out");
            let mut sup = |req: &Request, _: &Memory| {
                if req.nr == libc::SYS_getppid {
                    Reply::Value(4242)
                } else {
                    Reply::Continue
                }
            };
            let s = spec(&["sh", "-c", "echo $PPID"], &[libc::SYS_getppid]);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(0));
            assert_eq!(text(&out), "4242\n");
        });
    }

    #[test]
    fn exit_status_and_signal() {
        isolated(|| {
            let dir = Scratch::new("status");
            let out = dir.0.join("out");
            // execve notified too: the command's own exec waits for the supervisor.
            let notified = [libc::SYS_openat, libc::SYS_execve];
            let mut execs = 0;
            let mut sup = |req: &Request, _: &Memory| {
                execs += (req.nr == libc::SYS_execve) as u32;
                Reply::Continue
            };
            let s = spec(&["sh", "-c", "exit 7"], &notified);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(7));
            let s = spec(&["sh", "-c", "kill -9 $$"], &notified);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Signaled(9));
            assert!(execs >= 2, "{execs}");
        });
    }

    #[test]
    fn command_not_found() {
        isolated(|| {
            let dir = Scratch::new("notfound");
            let out = dir.0.join("out");
            let mut sup = |_: &Request, _: &Memory| Reply::Continue;
            let s = spec(&["/nonexistent/cmd"], &[libc::SYS_execve]);
            match run(&s, &out, &mut sup) {
                Err(LaunchError::NotFound { command }) => assert_eq!(command, "/nonexistent/cmd"),
                other => panic!("{other:?}"),
            }
        });
    }

    #[test]
    fn grandchild_is_waited_for() {
        isolated(|| {
            let dir = Scratch::new("orphan");
            let out = dir.0.join("out");
            let late = dir.0.join("late");
            let script = format!("(sleep 0.2; echo late > {}) & exit 3", late.display());
            let mut sup = |_: &Request, _: &Memory| Reply::Continue;
            let s = spec(&["sh", "-c", &script], &[libc::SYS_openat]);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(3));
            assert_eq!(text(&late), "late\n");
        });
    }

    #[test]
    fn memory_reads_the_path() {
        isolated(|| {
            let dir = Scratch::new("memory");
            let file = dir.write("data", "hello\n");
            let want = file.as_os_str().as_bytes().to_vec();
            let out = dir.0.join("out");
            let mut seen = Vec::new();
            let mut sup = |req: &Request, mem: &Memory| {
                if req.nr == libc::SYS_openat {
                    let path = mem.read_cstring(req.args[1]).unwrap_or_default();
                    if path == want {
                        assert_eq!(mem.read(req.args[1], path.len() + 1).unwrap(), {
                            let mut p = path.clone();
                            p.push(0);
                            p
                        });
                        assert!(mem.valid());
                    }
                    seen.push(path);
                }
                Reply::Continue
            };
            let s = spec(&["cat", file.to_str().unwrap()], &[libc::SYS_openat]);
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(0));
            assert_eq!(text(&out), "hello\n");
            assert!(seen.contains(&want), "{seen:?}");
        });
    }

    #[test]
    fn refused_calls_fail_and_memory_can_be_written() {
        isolated(|| {
            let dir = Scratch::new("refused");
            let out = dir.0.join("out");
            let file = dir.write("data", "hello\n");
            let other = dir.write("othr", "other\n");
            // Same length: the path is rewritten in the caller's memory before it runs.
            let mut sup = |req: &Request, mem: &Memory| {
                if req.nr == libc::SYS_openat
                    && mem.read_cstring(req.args[1]).as_deref() == Some(file.as_os_str().as_bytes())
                {
                    assert!(mem.write(req.args[1], other.as_os_str().as_bytes()));
                }
                Reply::Continue
            };
            let mut s = spec(
                &[
                    "sh",
                    "-c",
                    &format!("cat {}; mkdir {}/d", file.display(), dir.0.display()),
                ],
                &[libc::SYS_openat],
            );
            s.refused = vec![
                (libc::SYS_mkdir, libc::EPERM as u32),
                (libc::SYS_mkdirat, libc::EPERM as u32),
            ];
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(1));
            let o = text(&out);
            assert!(o.starts_with("other\n"), "{o}");
            assert!(o.contains("Operation not permitted"), "{o}");
            assert!(!dir.0.join("d").exists());
        });
    }

    #[test]
    fn capabilities_are_dropped() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("SKIP: dropping capabilities needs root");
            return;
        }
        isolated(|| {
            let dir = Scratch::new("caps");
            let out = dir.0.join("out");
            let mut sup = |_: &Request, _: &Memory| Reply::Continue;
            let mut s = spec(&["cat", "/proc/self/status"], &[libc::SYS_openat]);
            s.drop_capabilities = true;
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(0));
            let o = text(&out);
            let zero = "0000000000000000";
            for field in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                assert!(o.contains(&format!("{field}:\t{zero}")), "{field}: {o}");
            }
            assert!(o.contains("\nUid:\t0\t0\t0\t0\n"), "{o}");
        });
    }

    #[test]
    fn setup_failure_is_reported() {
        isolated(|| {
            let mut sup = |_: &Request, _: &Memory| Reply::Continue;
            let mut s = spec(&["true"], &[libc::SYS_openat]);
            s.cwd = c("/nonexistent/dir");
            match supervise(&s, &mut || Ok(()), &mut sup) {
                Err(LaunchError::Setup(e)) => {
                    assert_eq!((e.call, e.errno), ("chdir", Errno::ENOENT), "{e}")
                }
                other => panic!("{other:?}"),
            }
            let s = spec(&["true"], &[libc::SYS_openat]);
            match supervise(&s, &mut || Err(Errno::EACCES), &mut sup) {
                Err(LaunchError::Setup(e)) => {
                    assert_eq!((e.call, e.errno), ("before exec", Errno::EACCES), "{e}")
                }
                other => panic!("{other:?}"),
            }
        });
    }

    #[test]
    fn signals_from_other_processes_are_forwarded() {
        isolated(|| {
            let dir = Scratch::new("forward");
            let out = dir.0.join("out");
            let mut sup = |_: &Request, _: &Memory| Reply::Continue;
            // The command asks cordon (its parent) to pass SIGTERM on to it.
            let s = spec(&["sh", "-c", "kill -TERM $PPID; exec sleep 5"], &[]);
            let start = std::time::Instant::now();
            assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Signaled(15));
            assert!(start.elapsed() < std::time::Duration::from_secs(4));
        });
    }

    /// Not a check: prints what one notified call costs (`cargo test -p cordon-sys
    /// round_trip_cost -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn round_trip_cost() {
        isolated(|| {
            let dir = Scratch::new("cost");
            let out = dir.0.join("out");
            let n = 5000;
            let script = format!("i=0; while [ $i -lt {n} ]; do : < /dev/null; i=$((i+1)); done");
            let mut sup = |_: &Request, _: &Memory| Reply::Continue;
            let mut time = |notified: &[i64]| {
                let s = spec(&["sh", "-c", &script], notified);
                let start = std::time::Instant::now();
                assert_eq!(run(&s, &out, &mut sup).unwrap(), Outcome::Exited(0));
                start.elapsed()
            };
            let plain = time(&[]);
            let notified = time(&[libc::SYS_openat]);
            let per_call = notified.saturating_sub(plain) / n;
            let line = format!(
                "{n} opens: {plain:?} plain, {notified:?} notified, {per_call:?} per call\n"
            );
            let _ = nix::unistd::write(std::io::stderr(), line.as_bytes());
        });
    }
}

//! Launching a command on the host's own mounts, for the backends that need no namespace
//! (landlock): fork, confine the child, exec; the parent forwards signals and waits for the
//! whole process tree, as a child subreaper.
//!
//! # Confinement
//! The command never has a capability (as root: the bounding, ambient and inheritable sets are
//! emptied, so exec grants nothing back), runs with `no_new_privs`, and, when
//! [`DirectSpec::confine_namespaces`] is set, cannot make the mounts or namespaces that would
//! change what a path means under a path-checking backend: mount and the new mount API,
//! pivot_root, chroot, unshare, setns, clone with namespace flags (clone3 is refused with ENOSYS
//! so that libc falls back to clone, whose flags a filter can read), open_by_handle_at, and
//! io_uring (whose ring would carry opens past any checker).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{kill, SigmaskHow};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use crate::error::SysError;
use crate::sandbox::{forwarded_set, LaunchError, Outcome};

/// What to run.
#[derive(Debug, Clone)]
pub struct DirectSpec {
    pub cwd: CString,
    /// Paths to try to execute, in order (the `PATH` search, done in advance).
    pub exec_candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    /// Refuse the system calls that make mounts or namespaces (see the module docs).
    pub confine_namespaces: bool,
    /// Refuse IPv4, IPv6 and packet sockets (EACCES): `--no-network` without a network
    /// namespace.
    pub no_network: bool,
}

/// The seccomp filters that refuse mounts, namespaces and io_uring (x86_64 numbers), one
/// per errno (a seccompiler filter has one match action).
pub(crate) fn confinement_filters(
    namespaces: bool,
    network: bool,
) -> Result<Vec<seccompiler::BpfProgram>, SysError> {
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let bad = |e: seccompiler::BackendError| {
        SysError::new("seccomp filter", e.to_string(), Errno::EINVAL)
    };
    let mut eperm: BTreeMap<i64, Vec<SeccompRule>> = [
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_open_by_handle_at,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_mount_setattr,
    ]
    .into_iter()
    .map(|nr| (nr, Vec::new()))
    .collect();
    // clone with any namespace flag (the rules of one syscall are alternatives).
    let clone_rules = [
        libc::CLONE_NEWNS,
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWNET,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWCGROUP,
    ]
    .iter()
    .map(|&f| {
        let f = f as u64;
        SeccompRule::new(vec![SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(f),
            f,
        )?])
    })
    .collect::<Result<Vec<_>, _>>()
    .map_err(bad)?;
    eperm.insert(libc::SYS_clone, clone_rules);
    let enosys: BTreeMap<i64, Vec<SeccompRule>> = [libc::SYS_clone3, libc::SYS_io_uring_setup]
        .into_iter()
        .map(|nr| (nr, Vec::new()))
        .collect();
    let socket_rules = [libc::AF_INET, libc::AF_INET6, libc::AF_PACKET]
        .iter()
        .map(|&domain| {
            SeccompRule::new(vec![SeccompCondition::new(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                domain as u64,
            )?])
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let eacces: BTreeMap<i64, Vec<SeccompRule>> =
        [(libc::SYS_socket, socket_rules)].into_iter().collect();
    let mut chosen = Vec::new();
    if namespaces {
        chosen.push((eperm, libc::EPERM));
        chosen.push((enosys, libc::ENOSYS));
    }
    if !network {
        chosen.push((eacces, libc::EACCES));
    }
    chosen
        .into_iter()
        .map(|(map, errno)| {
            let f = SeccompFilter::new(
                map,
                SeccompAction::Allow,
                SeccompAction::Errno(errno as u32),
                TargetArch::x86_64,
            )
            .map_err(bad)?;
            f.try_into().map_err(bad)
        })
        .collect()
}

/// In the child, before exec: no capability (as root), no_new_privs, and the confinement
/// filters. Returns the failing call's name.
pub(crate) fn confine_child(
    filters: &[seccompiler::BpfProgram],
) -> Result<(), (&'static str, Errno)> {
    if nix::unistd::geteuid().is_root() {
        crate::raw::drop_capabilities(true).map_err(|e| ("capset", e))?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| ("prctl(PR_SET_NO_NEW_PRIVS)", e))?;
    for p in filters {
        seccompiler::apply_filter(p).map_err(|_| ("seccomp", Errno::EPERM))?;
    }
    Ok(())
}

/// Run `spec`: `before_exec` runs in the child after it is confined and before exec (a
/// Landlock ruleset is applied there). Returns when the command and every process it
/// started have ended. Must be called from a single-threaded process.
pub fn launch(
    spec: &DirectSpec,
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let filters = confinement_filters(spec.confine_namespaces, !spec.no_network)
        .map_err(LaunchError::Setup)?;
    // Orphans of the command come to cordon, so that the run lasts as long as its tree.
    nix::sys::prctl::set_child_subreaper(true).map_err(setup("prctl(PR_SET_CHILD_SUBREAPER)"))?;
    let mut old_mask = nix::sys::signal::SigSet::empty();
    nix::sys::signal::sigprocmask(
        SigmaskHow::SIG_BLOCK,
        Some(&forwarded_set()),
        Some(&mut old_mask),
    )
    .map_err(setup("sigprocmask"))?;
    let result = launch_blocked(spec, &filters, &old_mask, before_exec);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old_mask), None);
    result
}

fn launch_blocked(
    spec: &DirectSpec,
    filters: &[seccompiler::BpfProgram],
    old_mask: &nix::sys::signal::SigSet,
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
) -> Result<Outcome, LaunchError> {
    let setup = |call: &'static str| move |e: Errno| LaunchError::Setup(SysError::new(call, "", e));
    let sfd =
        SignalFd::with_flags(&forwarded_set(), SfdFlags::SFD_CLOEXEC).map_err(setup("signalfd"))?;
    let (err_read, err_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(setup("pipe2"))?;
    let parent = nix::unistd::getpid();
    // SAFETY: the caller guarantees a single-threaded process, so the child may run any code
    // before exec.
    let child = match unsafe { nix::unistd::fork() }.map_err(setup("fork"))? {
        ForkResult::Child => {
            drop(err_read);
            child_main(
                spec,
                filters,
                old_mask,
                before_exec,
                err_write.as_raw_fd(),
                parent,
            )
        }
        ForkResult::Parent { child } => child,
    };
    drop(err_write);
    let outcome = wait_tree(child, &sfd);
    read_exec_error(spec, err_read.as_fd().as_raw_fd(), outcome)
}

/// Report (errno, call or candidate) to the parent and exit.
fn fail(err_fd: i32, kind: u8, which: u32, call: &str, errno: Errno) -> ! {
    let mut rec = [0u8; 64];
    rec[0] = kind;
    rec[1..5].copy_from_slice(&(errno as i32).to_ne_bytes());
    rec[5..9].copy_from_slice(&which.to_ne_bytes());
    let name = call.as_bytes();
    let n = name.len().min(rec.len() - 9);
    rec[9..9 + n].copy_from_slice(&name[..n]);
    // SAFETY: err_fd is the write end of a pipe this process owns until exec or exit.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(err_fd) };
    let _ = nix::unistd::write(fd, &rec[..9 + n]);
    crate::raw::exit_now(match (kind, errno) {
        (KIND_EXEC, Errno::ENOENT) => 127,
        (KIND_EXEC, _) => 126,
        _ => 125,
    })
}

const KIND_SETUP: u8 = 1;
/// The calls the child can report failing.
const CHILD_CALLS: [&str; 7] = [
    "prctl(PR_SET_PDEATHSIG)",
    "chdir",
    "capset",
    "prctl(PR_SET_NO_NEW_PRIVS)",
    "seccomp",
    "landlock_restrict_self",
    "landlock_add_rule",
];
const KIND_EXEC: u8 = 2;

fn child_main(
    spec: &DirectSpec,
    filters: &[seccompiler::BpfProgram],
    old_mask: &nix::sys::signal::SigSet,
    before_exec: &mut dyn FnMut() -> Result<(), (&'static str, Errno)>,
    err_fd: i32,
    parent: Pid,
) -> ! {
    let setup = |(call, e): (&str, Errno)| fail(err_fd, KIND_SETUP, 0, call, e);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(old_mask), None);
    crate::raw::default_sigpipe();
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
        setup(("prctl(PR_SET_PDEATHSIG)", e));
    }
    // The parent may have died before the death signal was armed.
    if nix::unistd::getppid() != parent {
        crate::raw::exit_now(125);
    }
    if let Err(e) = nix::unistd::chdir(spec.cwd.as_c_str()) {
        setup(("chdir", e));
    }
    if let Err(e) = before_exec() {
        setup(e);
    }
    if let Err(e) = confine_child(filters) {
        setup(e);
    }
    let mut denied: Option<u32> = None;
    for (i, cand) in spec.exec_candidates.iter().enumerate() {
        let cand: &CStr = cand.as_c_str();
        let e = match nix::unistd::execve(cand, &spec.argv, &spec.envp) {
            Err(e) => e,
            Ok(never) => match never {},
        };
        match e {
            Errno::ENOENT | Errno::ENOTDIR | Errno::ESTALE | Errno::ENODEV | Errno::ETIMEDOUT => {}
            Errno::EACCES => denied = denied.or(Some(i as u32)),
            e => fail(err_fd, KIND_EXEC, i as u32, "execve", e),
        }
    }
    match denied {
        Some(i) => fail(err_fd, KIND_EXEC, i, "execve", Errno::EACCES),
        None => fail(err_fd, KIND_EXEC, 0, "execve", Errno::ENOENT),
    }
}

/// Forward signals to `child` and reap until no child is left; the outcome is `child`'s.
fn wait_tree(child: Pid, sfd: &SignalFd) -> Outcome {
    let mut outcome = None;
    loop {
        // Reap whatever has ended.
        loop {
            match waitpid(
                None::<Pid>,
                Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL),
            ) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => {
                    outcome = Some(Outcome::Exited(code))
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                    outcome = Some(Outcome::Signaled(sig as i32))
                }
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) => {}
                // ECHILD: the whole tree is gone.
                Err(_) => return outcome.unwrap_or(Outcome::Exited(125)),
            }
        }
        if let Ok(Some(info)) = sfd.read_signal() {
            let sig = info.ssi_signo as i32;
            if sig != libc::SIGCHLD && outcome.is_none() {
                if let Ok(s) = nix::sys::signal::Signal::try_from(sig) {
                    let _ = kill(child, s);
                }
            }
        }
    }
}

/// Turn a failure report from the child into the launch error it stands for.
fn read_exec_error(
    spec: &DirectSpec,
    err_fd: i32,
    outcome: Outcome,
) -> Result<Outcome, LaunchError> {
    let mut rec = [0u8; 64];
    let n = nix::unistd::read(err_fd, &mut rec).unwrap_or(0);
    if n < 9 {
        return Ok(outcome);
    }
    let errno = Errno::from_raw(i32::from_ne_bytes([rec[1], rec[2], rec[3], rec[4]]));
    let which = u32::from_ne_bytes([rec[5], rec[6], rec[7], rec[8]]) as usize;
    if rec[0] == KIND_SETUP {
        // The child names the call; the names are this module's own, so map back to them.
        let name = String::from_utf8_lossy(&rec[9..n]).into_owned();
        let call = CHILD_CALLS
            .iter()
            .find(|c| **c == name)
            .copied()
            .unwrap_or("child setup");
        let arg = if call == "chdir" {
            spec.cwd.to_string_lossy().into_owned()
        } else {
            String::new()
        };
        return Err(LaunchError::Setup(SysError::new(call, arg, errno)));
    }
    Err(match errno {
        Errno::ENOENT | Errno::ENOTDIR => LaunchError::NotFound {
            command: spec
                .argv
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default(),
        },
        errno => LaunchError::CannotExecute {
            path: spec
                .exec_candidates
                .get(which)
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default(),
            errno,
        },
    })
}

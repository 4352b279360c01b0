//! What this kernel and user allow: the facts behind `cordon doctor` and `--backend auto`.
//!
//! Each probe tries the real thing where it can (creating a user namespace in a child process)
//! rather than trusting sysctls alone: AppArmor, seccomp filters of container runtimes and
//! distribution patches can refuse what the sysctls allow.

use std::ffi::CStr;

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::ForkResult;

/// Whether this kernel has mount_setattr(2) (Linux 5.12), which makes a whole tree of mounts
/// read-only in one call; without it each submount is remounted by itself.
pub fn mount_setattr_available() -> bool {
    crate::raw::mount_setattr_exists()
}

/// Try to create user + mount namespaces in a child process. With `mount_overlay`, also try to
/// mount an overlayfs inside them (allowed unprivileged since Linux 5.11).
pub fn try_user_namespace(mount_overlay: bool) -> Result<(), Errno> {
    // SAFETY: the child only makes system calls and exits with _exit; no allocation, no locks.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Child => {
            let code = match userns_child(mount_overlay) {
                Ok(()) => 0,
                Err(e) => e as i32,
            };
            crate::raw::exit_now(code.clamp(0, 255))
        }
        ForkResult::Parent { child } => match waitpid(child, None)? {
            WaitStatus::Exited(_, 0) => Ok(()),
            WaitStatus::Exited(_, code) => Err(Errno::from_raw(code)),
            _ => Err(Errno::ECHILD),
        },
    }
}

fn userns_child(mount_overlay: bool) -> Result<(), Errno> {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)?;
    if !mount_overlay {
        return Ok(());
    }
    // Files cannot be created by an unmapped user (EOVERFLOW): map ourselves first.
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| crate::sandbox::io_errno(&e))
    };
    let _ = write("/proc/self/setgroups", "deny".into());
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    mount(
        None::<&CStr>,
        c"/",
        None::<&CStr>,
        MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        None::<&CStr>,
    )?;
    mount(
        Some(c"tmpfs"),
        c"/tmp",
        Some(c"tmpfs"),
        MsFlags::empty(),
        None::<&CStr>,
    )?;
    for d in [c"/tmp/l", c"/tmp/u", c"/tmp/w", c"/tmp/m"] {
        nix::unistd::mkdir(d, nix::sys::stat::Mode::from_bits_truncate(0o755))?;
    }
    mount(
        Some(c"overlay"),
        c"/tmp/m",
        Some(c"overlay"),
        MsFlags::empty(),
        Some(c"lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w"),
    )
}

/// The Landlock ABI version this kernel offers: Err(ENOSYS) when not built in, Err(EOPNOTSUPP)
/// when built in but disabled at boot.
pub fn landlock_abi() -> Result<u32, Errno> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a NULL attribute pointer, size 0 and the VERSION flag the call only returns
    // the ABI version (landlock_create_ruleset(2)).
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(r as u32)
}

/// The effective user id of this process.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Whether this process holds any capability in its effective set (read from
/// /proc/self/status; false when it cannot be read).
pub fn has_capabilities() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps != 0)
}

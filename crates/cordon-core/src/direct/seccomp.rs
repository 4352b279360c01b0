//! The seccomp backend: every file system call of the command's process tree is suspended
//! (seccomp user notification) while cordon walks its paths through the view, then answered
//! ENOENT for a hidden path, EACCES for a denied one, EROFS for a write under a read-only
//! one, answered from another file at a `redirect` or `empty` path, or let through as it is.
//!
//! # Enforces
//! `hide` as ENOENT, `deny` as EACCES and read-only paths, on every path a system call names,
//! for every process of the tree (static binaries and the dynamic loader included). Mounts,
//! namespaces, io_uring and, as root, capabilities are refused to the command.
//!
//! # Observes
//! Nothing yet (use `--trace`, which runs the ptrace tracer instead).
//!
//! # Requires
//! Linux 5.5 (user notification with CONTINUE); 6.6 makes each round trip about five times
//! cheaper (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`). No privilege and no namespace.
//!
//! # Gaps
//! - Advisory: a call let through runs with the path as it is in the caller's memory, which
//!   another thread may change after the check (time of check to time of use). Pair it with
//!   Landlock (`landlock+seccomp`) for a guarantee.
//! - Cannot rewrite paths, only answer for them: at a `redirect` or `empty` path, opens get a
//!   descriptor of the other file (injected, Linux 5.14), and stat, access and readlink are
//!   answered from it; any other call there fails with EACCES (exec included). A `tmpfs`
//!   keeps the host's directory and a fresh HOME is a private directory named by $HOME (the
//!   real home is hidden), since a build creates files there.
//! - Listings of directories with hidden entries are made by cordon (through a copy of the
//!   caller's descriptor, Linux 5.6), with the hidden names left out; the old getdents call
//!   (not getdents64) still shows them.
//! - Processes that outlive a killed cordon keep the filter, and their file system calls fail
//!   with ENOSYS.

use std::path::Path;

use cordon_sys::error::Errno;
use cordon_sys::unotif::{Memory, Reply, Request, Supervisor};

use crate::tracer::{decode_call, CallMemory};
use crate::view::View;

/// The supervisor that answers for `view`.
pub struct Checker<'a> {
    pub view: &'a View,
}

struct Caller<'a> {
    pid: i32,
    mem: &'a Memory,
}

impl CallMemory for Caller<'_> {
    fn pid(&self) -> i32 {
        self.pid
    }
    fn read_cstring(&self, addr: u64) -> Option<Vec<u8>> {
        self.mem.read_cstring(addr)
    }
    fn read_u64(&self, addr: u64) -> Option<u64> {
        let b = self.mem.read(addr, 8)?;
        Some(u64::from_ne_bytes(b.try_into().ok()?))
    }
}

impl Supervisor for Checker<'_> {
    fn decide(&mut self, req: &Request, mem: &Memory) -> Reply {
        if req.nr == GETDENTS64 {
            return self.listing(req, mem);
        }
        let caller = Caller { pid: req.pid, mem };
        let Some(call) = decode_call(&caller, req.nr, req.args) else {
            return Reply::Continue;
        };
        match self.view.judge(&call, req.pid) {
            Err(errno) => Reply::Errno(errno as i32),
            Ok(moved) => match moved.as_slice() {
                [] => Reply::Continue,
                // Shown from elsewhere (redirect, empty): answered from that file.
                [(_, host)] if call.paths.len() == 1 => answer_from(host, call.name, req, mem),
                _ => Reply::Errno(Errno::EXDEV as i32),
            },
        }
    }
}

/// getdents64 (x86_64): listings of directories with hidden entries are made by cordon.
pub const GETDENTS64: i64 = 217;

impl Checker<'_> {
    /// A listing: when the directory holds hidden entries, read it through a copy of the
    /// caller's descriptor (same offset), drop them, and answer with the rest.
    fn listing(&self, req: &Request, mem: &Memory) -> Reply {
        use cordon_sys::hostfs;
        let (fd, buf, count) = (req.args[0] as i32, req.args[1], req.args[2] as usize);
        let dir = std::fs::read_link(format!("/proc/{}/fd/{fd}", req.pid));
        let Some((drop, keep_only)) = dir.ok().and_then(|d| self.view.listing_filter(&d)) else {
            return Reply::Continue;
        };
        loop {
            let raw = match hostfs::getdents64_of(req.pid, fd, count) {
                Ok(raw) => raw,
                // No pidfd_getfd (before Linux 5.6) or not allowed to use it: the listing
                // goes through unfiltered rather than failing the build.
                Err(Errno::ENOSYS | Errno::EPERM) => return Reply::Continue,
                Err(e) => return Reply::Errno(e as i32),
            };
            if raw.is_empty() {
                return Reply::Value(0);
            }
            let Some(kept) = hostfs::filter_dirents(&raw, true, &drop, keep_only.as_deref()) else {
                return Reply::Errno(Errno::EIO as i32);
            };
            // A batch of hidden names only: read on, since 0 would mean the end.
            if kept.is_empty() {
                continue;
            }
            return if mem.valid() && mem.write(buf, &kept) {
                Reply::Value(kept.len() as i64)
            } else {
                Reply::Errno(Errno::EFAULT as i32)
            };
        }
    }
}

/// Carry out call `name` on `host` (the file the view shows at the caller's path) and answer
/// with its result: opens hand over the descriptor, stats and access checks are made on it,
/// readlink reads it. Any other call on such a path fails with EACCES: the kernel would act
/// on the original path.
fn answer_from(host: &Path, name: &str, req: &Request, mem: &Memory) -> Reply {
    use cordon_sys::hostfs;
    let a = req.args;
    let errno = |e: Errno| Reply::Errno(e as i32);
    // Written into the caller's memory only while its call is still pending.
    let write = |addr: u64, bytes: &[u8], value: i64| {
        if mem.valid() && mem.write(addr, bytes) {
            Reply::Value(value)
        } else {
            Reply::Errno(Errno::EFAULT as i32)
        }
    };
    const O_CLOEXEC: u64 = 0o2000000;
    const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
    let open = |flags: u64, mode: u64| match hostfs::open(host, flags as i32, mode as u32) {
        Ok(fd) => Reply::SendFd {
            fd,
            cloexec: flags & O_CLOEXEC != 0,
        },
        Err(e) => errno(e),
    };
    match name {
        "open" => open(a[1], a[2]),
        "creat" => open(0o1101, a[1]),
        "openat" => open(a[2], a[3]),
        "openat2" => match mem.read(a[2], 16) {
            Some(how) => {
                let flags = u64::from_ne_bytes(how[0..8].try_into().unwrap_or([0; 8]));
                let mode = u64::from_ne_bytes(how[8..16].try_into().unwrap_or([0; 8]));
                open(flags, mode)
            }
            None => Reply::Errno(Errno::EFAULT as i32),
        },
        "stat" | "lstat" | "newfstatat" => {
            let (buf, follow) = match name {
                "stat" => (a[1], true),
                "lstat" => (a[1], false),
                _ => (a[2], a[3] & AT_SYMLINK_NOFOLLOW == 0),
            };
            match hostfs::stat_bytes(host, follow) {
                Ok(bytes) => write(buf, &bytes, 0),
                Err(e) => errno(e),
            }
        }
        "statx" => match hostfs::statx_bytes(host, a[2] as i32, a[3] as u32) {
            Ok(bytes) => write(a[4], &bytes, 0),
            Err(e) => errno(e),
        },
        "access" | "faccessat" | "faccessat2" => {
            let mode = if name == "access" { a[1] } else { a[2] };
            match hostfs::access(host, mode as i32) {
                Ok(()) => Reply::Value(0),
                Err(e) => errno(e),
            }
        }
        "readlink" | "readlinkat" => {
            let (buf, size) = if name == "readlink" {
                (a[1], a[2])
            } else {
                (a[2], a[3])
            };
            match std::fs::read_link(host) {
                Ok(t) => {
                    let t = t.as_os_str().as_encoded_bytes();
                    let n = t.len().min(size as usize);
                    write(buf, &t[..n], n as i64)
                }
                Err(e) => Reply::Errno(e.raw_os_error().unwrap_or(Errno::EINVAL as i32)),
            }
        }
        _ => Reply::Errno(Errno::EACCES as i32),
    }
}

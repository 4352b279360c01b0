//! The seccomp backend: every file system call of the command's process tree is suspended
//! (seccomp user notification) while cordon walks its paths through the view, then answered
//! ENOENT for a hidden path, EACCES for a denied one, EROFS for a write under a read-only
//! one, or let through as it is.
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
//! - Cannot rewrite paths: a `tmpfs` keeps the host's directory, a fresh HOME is a private
//!   directory named by $HOME (the real home is hidden), `redirect` and `empty` are refused.
//! - Directory listings still show hidden names (stat and open of them fail).
//! - Processes that outlive a killed cordon keep the filter, and their file system calls fail
//!   with ENOSYS.

use cordon_sys::unotif::{Memory, Reply, Request, Supervisor};

use crate::trace::Op;
use crate::tracer::{decode_call, CallMemory};
use crate::view::{Resolved, View};

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
        let caller = Caller { pid: req.pid, mem };
        let Some(call) = decode_call(&caller, req.nr, req.args) else {
            return Reply::Continue;
        };
        let writes = matches!(call.op, Op::Write | Op::Create | Op::Delete | Op::Rename);
        for p in &call.paths {
            let errno = match self.view.resolve(&p.abs, p.follow, req.pid) {
                Resolved::Hidden => 2,
                Resolved::Denied => 13,
                Resolved::Loop => 40,
                Resolved::Allowed { writable, .. } if writes && !writable => 30,
                Resolved::Allowed { .. } => continue,
            };
            return Reply::Errno(errno);
        }
        Reply::Continue
    }
}

//! The ptrace backend: the tracer stops the command at every file system call (seccomp
//! RET_TRACE), walks each path through the view as the kernel would, and answers ENOENT for a
//! hidden path, EACCES for a denied one, EROFS for a write under a read-only one, or runs the
//! call with the path rewritten to where the view shows it from (a private directory, a
//! redirect's target), as proot does.
//!
//! # Enforces
//! The whole view on every path a system call names, for every process of the tree, static
//! binaries and the dynamic loader included: `hide` as ENOENT, `deny` as EACCES, read-only
//! paths, a private /tmp and a fresh HOME at their usual paths, `redirect` and `empty`.
//! Mounts, namespaces (which would change what a path means), io_uring and, as root, every
//! capability are refused to the command.
//!
//! # Observes
//! Every file system call, with `--trace`.
//!
//! # Requires
//! ptrace of one's own children (Yama ptrace_scope 0 or 1) and seccomp filters (Linux 3.5;
//! the stop order it relies on is 4.8's); x86_64. No privilege and no namespace.
//!
//! # Gaps
//! - Advisory against a hostile multi-threaded program: another thread can change a path in
//!   memory between the check and the kernel's own read of it (time of check to time of use).
//!   Pair it with Landlock (`landlock+ptrace`) where the kernel has it.
//! - getcwd is translated back to the view's path, but /proc links (`/proc/self/cwd`, fd
//!   links) inside a private directory show the private directory's own path (which leads
//!   back to the same place).
//! - Directory listings drop hidden entries (getdents is stopped at for that), but the
//!   entries' inode numbers and offsets are the host's.
//! - Descriptors inherited from outside the run, and those passed over sockets, are not paths
//!   and are not checked.

use std::os::unix::ffi::{OsStrExt, OsStringExt};

use cordon_sys::ptrace::{Action, Observer, Tracee};

use crate::tracer::{decode_call, Sink, TraceWriter};
use crate::view::View;

/// getdents and getdents64 (x86_64): listings are filtered so that hidden entries do not
/// show. The backend stops at them besides the tracer's file system calls.
pub const GETDENTS: [i64; 2] = [78, 217];

/// getcwd (x86_64): the directory it returns is translated back from a private directory
/// to the path the view shows it at.
pub const GETCWD: i64 = 79;

/// The tracer's observer that enforces `view`, and records into `trace` when given.
pub struct Enforcer<'a> {
    view: &'a View,
    /// (host prefix, path in the view) of each entry shown from elsewhere, longest host
    /// first, for getcwd.
    cwd_pairs: Vec<(Vec<u8>, Vec<u8>)>,
    trace: Option<&'a mut TraceWriter<Sink>>,
    /// Accesses refused or rewritten, for `--verbose`.
    pub refused: u64,
    pub rewritten: u64,
}

impl<'a> Enforcer<'a> {
    pub fn new(view: &'a View, trace: Option<&'a mut TraceWriter<Sink>>) -> Self {
        let mut cwd_pairs: Vec<(Vec<u8>, Vec<u8>)> = view
            .entries
            .iter()
            .filter(|e| e.host != e.path)
            .map(|e| {
                (
                    e.host.as_os_str().as_bytes().to_vec(),
                    e.path.as_os_str().as_bytes().to_vec(),
                )
            })
            .collect();
        cwd_pairs.sort_by_key(|(host, _)| std::cmp::Reverse(host.len()));
        Enforcer {
            view,
            cwd_pairs,
            trace,
            refused: 0,
            rewritten: 0,
        }
    }

    /// The answer for one stopped call.
    pub fn decide(&self, tracee: &Tracee, nr: i64, args: [u64; 6]) -> Action {
        if nr == GETCWD {
            return if self.cwd_pairs.is_empty() {
                Action::Continue
            } else {
                Action::TranslateCwd(self.cwd_pairs.clone())
            };
        }
        if GETDENTS.contains(&nr) {
            let fd = args[0] as i32;
            let dir = std::fs::read_link(format!("/proc/{}/fd/{fd}", tracee.pid()));
            return match dir.ok().and_then(|d| self.view.listing_filter(&d)) {
                Some((drop, keep_only)) => Action::FilterDirents { drop, keep_only },
                None => Action::Continue,
            };
        }
        let Some(call) = decode_call(tracee, nr, args) else {
            return Action::Continue;
        };
        match self.view.judge(&call, tracee.pid()) {
            Err(errno) => Action::Fail(errno as i32),
            Ok(moved) if moved.is_empty() => Action::Continue,
            Ok(moved) => Action::Rewrite(
                moved
                    .into_iter()
                    .map(|(arg, host)| (arg, host.into_os_string().into_vec()))
                    .collect(),
            ),
        }
    }
}

impl Observer for Enforcer<'_> {
    fn spawned(&mut self, pid: i32, parent: i32) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.spawned(pid, parent);
        }
    }

    fn executed(&mut self, pid: i32) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.executed(pid);
        }
    }

    fn entry(&mut self, tracee: &Tracee, nr: i64, args: [u64; 6]) -> Action {
        if let Some(t) = self.trace.as_deref_mut() {
            t.record_entry(tracee, nr, args);
        }
        let action = self.decide(tracee, nr, args);
        match action {
            Action::Continue => {}
            Action::Fail(_) => self.refused += 1,
            Action::Rewrite(_) | Action::FilterDirents { .. } | Action::TranslateCwd(_) => {
                self.rewritten += 1
            }
        }
        action
    }

    fn exit(&mut self, pid: i32, ret: i64) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.exit(pid, ret);
        }
    }

    fn ended(&mut self, pid: i32, status: i32) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.ended(pid, status);
        }
    }

    fn wants_exit(&self) -> bool {
        self.trace.is_some()
    }

    fn finished(&mut self, status: i32) {
        if let Some(t) = self.trace.as_deref_mut() {
            t.finished(status);
        }
    }
}

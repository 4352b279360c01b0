//! The only crate of cordon that contains `unsafe` code.
//!
//! # Overview
//! Small safe interfaces over the Linux system calls cordon needs: launching a command in new
//! namespaces on a root built from a list of mount operations ([`sandbox`]); launching it
//! confined without namespaces ([`direct`]), under the tracer (`ptrace`, which also fails
//! calls, rewrites their paths and filters listings) or under a seccomp user-notification
//! supervisor (`unotif`, with [`hostfs`] for the calls made on a suspended process's behalf);
//! and probing what this kernel and user allow ([`probe`]). Policy decisions live in `cordon-core`;
//! this crate only executes a plan it is given.
//!
//! # Process model
//! `cordon` (the supervisor) clones an *init* process into new user, mount, pid, ipc and uts
//! namespaces (and net on request). The supervisor writes the init's uid/gid maps; the init builds
//! the root from the plan, `pivot_root`s into it, forks the command, then reaps and forwards
//! signals until the command exits. The init dies with the supervisor (`PR_SET_PDEATHSIG`), and
//! the kernel kills everything in a pid namespace when its init dies, so nothing outlives cordon.
//!
//! # Limitations
//! The launch functions must be called from a single-threaded process: the init is created with a
//! raw `clone` and runs without `exec`.
#![deny(clippy::undocumented_unsafe_blocks)]

mod child;
pub mod direct;
pub mod error;
pub mod hostfs;
mod mount;
pub mod probe;
#[cfg(target_arch = "x86_64")]
pub mod ptrace;
mod raw;
pub mod sandbox;
mod stage;
#[cfg(target_arch = "x86_64")]
pub mod unotif;

pub use error::SysError;
pub use raw::{default_sigpipe, process_start};

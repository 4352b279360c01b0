//! cordon's core: the policy model, the sandbox plan, backends and host facts.
//!
//! # Overview
//! A [`policy::Policy`] is data: ordered path rules, environment rules, a home and a network
//! setting, loaded from built-in profiles, TOML files and command-line flags
//! ([`policy::Loader`]). A backend compiles it into its own plan ([`plan`] for the namespace
//! backend, [`view`] for the others) and runs the command; it never re-reads flags.
//!
//! # Process model
//! Everything here runs in the supervisor, before any namespace exists; the only code that runs
//! inside the sandbox is in `cordon-sys`.
//!
//! # Limitations
//! The backends without namespaces ([`direct`]) cannot mount: they show a private /tmp and a
//! fresh HOME by rewriting paths (ptrace, preload) or degrade them, and say so ([`view`]).
#![forbid(unsafe_code)]

pub mod analysis;
pub mod backend;
pub mod bisect;
pub mod diff;
pub mod direct;
pub mod doctor;
pub mod env;
pub mod export;
pub mod import;
pub mod learn;
pub mod plan;
pub mod policy;
pub mod profiles;
pub mod report;
pub mod trace;
pub mod tracer;
pub mod view;

/// The system-call crate, re-exported for the binary (which has no direct dependency on it).
pub use cordon_sys as sys;

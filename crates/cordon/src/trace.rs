//! `cordon trace`: run a command under the tracer and write its trace.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{anyhow, Context as _, Result};

use cordon_core::trace::{Record, RuleRecord, SCHEMA_VERSION};
use cordon_core::tracer::{self, TraceWriter};

use crate::cli::TraceArgs;
use crate::{EXIT_CANNOT_EXECUTE, EXIT_FAILURE, EXIT_NOT_FOUND};

#[cfg(not(target_arch = "x86_64"))]
pub fn trace(_args: TraceArgs, _order: &crate::cli::FlagOrder) -> Result<i32> {
    anyhow::bail!("cordon trace is not implemented for this architecture yet (x86_64 only)")
}

#[cfg(target_arch = "x86_64")]
pub fn trace(args: TraceArgs, order: &crate::cli::FlagOrder) -> Result<i32> {
    use cordon_core::sys::ptrace;
    use cordon_core::sys::sandbox::LaunchError;

    let cwd = crate::run::work_dir(args.chdir.as_deref())?;
    // The command runs in the caller's real environment: flags that would change it have
    // no meaning here, and ignoring them silently would mislead.
    let p = &args.policy;
    for (given, flag) in [
        (p.home.is_some(), "--home"),
        (!p.env_keep.is_empty(), "--env-keep"),
        (!p.env_set.is_empty(), "--env-set"),
        (!p.env_unset.is_empty(), "--env-unset"),
        (p.env_clear, "--env-clear"),
        (p.no_network, "--no-network"),
    ] {
        if given {
            anyhow::bail!(
                "{flag} changes the sandbox's environment, and cordon trace runs the command \
                 in the real one; use cordon run --trace FILE to trace a sandboxed run"
            );
        }
    }
    let policy = crate::run::resolve_policy(&args.policy, order, &cwd)?;
    let env: Vec<_> = std::env::vars_os().collect();
    let spec = trace_spec(&args.command, &cwd, &env)?;

    // The command runs in the real environment: its home is the real one.
    let mut writer = open_writer(
        &args.out,
        &args.command,
        &cwd,
        &policy,
        "ptrace",
        "keep",
        &[],
    )?
    .defer_end();

    // The terminal's ^C reaches the command (same process group); cordon keeps tracing it
    // until it ends, as `time` does.
    let outcome = ptrace::trace(&spec, &mut writer);
    let (status, code) = match outcome {
        Ok(o) => (o.code(), o.code()),
        Err(LaunchError::NotFound { command }) => {
            eprintln!("cordon: {command}: command not found");
            (EXIT_NOT_FOUND, EXIT_NOT_FOUND)
        }
        Err(e @ LaunchError::CannotExecute { .. }) => {
            eprintln!("cordon: {e}");
            (EXIT_CANNOT_EXECUTE, EXIT_CANNOT_EXECUTE)
        }
        Err(LaunchError::Setup(e)) => {
            eprintln!("cordon: cannot trace: {e}");
            (EXIT_FAILURE, EXIT_FAILURE)
        }
    };
    // Each file consumed, as it is now: digests and owners let traces from two machines be
    // compared by content (cordon diff).
    let owners = cordon_core::analysis::Owners::detect();
    writer.write_inputs(|p| {
        owners
            .owner(std::path::Path::new(p))
            .map(|o| format!("{} ({})", o.package, o.manager))
    });
    let events = writer.events();
    writer
        .finish(status)
        .with_context(|| format!("cannot write the trace file {}", args.out.display()))?;
    if args.verbose {
        eprintln!(
            "cordon: trace of {events} file accesses written to {}",
            args.out.display()
        );
    }
    Ok(code)
}

/// What the tracer needs to run `command` in `cwd` with the environment `env`.
#[cfg(target_arch = "x86_64")]
pub fn trace_spec(
    command: &[OsString],
    cwd: &Path,
    env: &[(OsString, OsString)],
) -> Result<cordon_core::sys::ptrace::TraceSpec> {
    let argv0 = command.first().ok_or_else(|| anyhow!("no command given"))?;
    let path_var = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v);
    let candidates = cordon_core::plan::exec_candidates(argv0, path_var.map(|v| v.as_os_str()));
    Ok(cordon_core::sys::ptrace::TraceSpec {
        cwd: CString::new(cwd.as_os_str().as_bytes())
            .map_err(|_| anyhow!("the directory contains a NUL byte"))?,
        exec_candidates: cstrings(candidates.iter().map(|p| p.as_os_str().as_bytes().to_vec()))?,
        argv: cstrings(command.iter().map(|a| a.as_bytes().to_vec()))?,
        envp: cstrings(env.iter().map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        }))?,
        traced: tracer::traced_syscalls(),
        refused: tracer::refused_syscalls(),
        confine: false,
        no_network: false,
    })
}

#[cfg(target_arch = "x86_64")]
fn cstrings(items: impl Iterator<Item = Vec<u8>>) -> Result<Vec<CString>> {
    items
        .map(|b| CString::new(b).map_err(|_| anyhow!("argument contains a NUL byte")))
        .collect()
}

/// The trace's writer, with its header written. `notes` say how the run's view differs from
/// the policy (a backend without namespaces); they join the header's coverage gaps.
pub fn open_writer(
    out: &std::path::Path,
    command: &[std::ffi::OsString],
    cwd: &std::path::Path,
    policy: &cordon_core::policy::Policy,
    tracer: &str,
    home_setting: &str,
    notes: &[String],
) -> Result<TraceWriter<tracer::Sink>> {
    let sink = tracer::Sink::create(out)
        .with_context(|| format!("cannot create the trace file {}", out.display()))?;
    let compressed = sink.is_compressed();
    let header = Record::Header {
        schema_version: SCHEMA_VERSION,
        tracer: tracer.into(),
        command: command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        cwd: cwd.to_string_lossy().into_owned(),
        started: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        gaps: vec![
            "calls on a descriptor alone (fstat, fchmod, getdents) name no path and are not \
             recorded; the open that made the descriptor is"
                .into(),
            "io_uring is refused (ENOSYS) while tracing, so programs fall back to plain calls"
                .into(),
        ]
        .into_iter()
        .chain(notes.iter().map(|n| format!("the view differs: {n}")))
        .collect(),
        home: std::env::var("HOME").unwrap_or_default(),
        home_setting: home_setting.to_string(),
        xdg_config_home: std::env::var("XDG_CONFIG_HOME").unwrap_or_default(),
        xdg_cache_home: std::env::var("XDG_CACHE_HOME").unwrap_or_default(),
        xdg_data_home: std::env::var("XDG_DATA_HOME").unwrap_or_default(),
        rules: RuleRecord::from_policy(policy),
        policy_sources: policy.sources.clone(),
    };
    let writer = TraceWriter::new(sink, header)
        .with_context(|| format!("cannot write the trace file {}", out.display()))?;
    Ok(if compressed {
        writer.flush_every(256)
    } else {
        writer
    })
}

/// Run a sandbox with its command traced into `writer`, judging each access against the
/// policy (hidden, denied, redirected).
#[cfg(target_arch = "x86_64")]
pub fn launch_traced(
    spec: &cordon_core::sys::sandbox::Spec,
    writer: &mut TraceWriter<tracer::Sink>,
) -> Result<cordon_core::sys::sandbox::Outcome, cordon_core::sys::sandbox::LaunchError> {
    use cordon_core::sys::sandbox::{self, Tracing};
    sandbox::launch_traced(
        spec,
        Tracing {
            traced: tracer::traced_syscalls(),
            refused: tracer::refused_syscalls(),
            observer: writer,
        },
    )
}

#[cfg(not(target_arch = "x86_64"))]
pub fn launch_traced(
    _spec: &cordon_core::sys::sandbox::Spec,
    _writer: &mut TraceWriter<tracer::Sink>,
) -> Result<cordon_core::sys::sandbox::Outcome, cordon_core::sys::sandbox::LaunchError> {
    Err(cordon_core::sys::sandbox::LaunchError::Setup(
        cordon_core::sys::SysError {
            call: "trace",
            arg: "tracing is implemented for x86_64 only".into(),
            errno: cordon_core::sys::error::Errno::ENOSYS,
        },
    ))
}

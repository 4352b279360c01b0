//! `cordon`: parse, run, map errors to exit statuses.
//!
//! The binary starts at a C `main` of its own rather than through Rust's runtime, whose
//! start-up finds the main thread's stack by reading and parsing /proc/self/maps (about 50 us,
//! a fifth of what cordon adds to a command's start). `process_start` does the rest of what
//! the runtime would: descriptors 0 to 2 open, SIGPIPE ignored. A stack overflow on the main
//! thread is then a plain SIGSEGV instead of a message.
#![cfg_attr(not(test), no_main)]
#![deny(unsafe_code)]

mod bisect;
mod cli;
mod doctor;
mod export;
mod import;
mod learn;
mod report;
mod run;
mod trace;

/// cordon's own failure (as `env` and `chroot`): bad usage, bad policy, no sandbox.
pub const EXIT_FAILURE: i32 = 125;
/// The command exists but cannot be executed.
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// The C entry point; arguments come from `std::env::args_os`, which glibc hands to Rust's
/// standard library before `main`.
#[cfg(not(test))]
#[allow(unsafe_code)] // An exported symbol: the one unsafe attribute outside cordon-sys.
#[no_mangle]
pub extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    cordon_core::sys::process_start();
    cordon_main()
}

/// Under the test harness, which brings its own entry point, this keeps the code reachable.
#[cfg(test)]
fn main() {
    cordon_main()
}

fn cordon_main() -> ! {
    use clap::{CommandFactory, FromArgMatches};
    // Before the parse: `cordon run`'s sandbox starts beside it.
    let early = run::start_early();
    let parsed = cli::Cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_FAILURE } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // Where each flag stood: rules and variables apply in command-line order. Only the
    // subcommands that take rule flags ask, since clap rejects ids a command does not define.
    let order = || {
        matches
            .subcommand()
            .map(|(_, m)| cli::FlagOrder::of(m))
            .unwrap_or_default()
    };
    // The subcommands that only print die of a closed pipe, as other Unix tools do
    // (`cordon report t | head`); the others keep SIGPIPE ignored, so that cordon outlives a
    // closed pipe while it supervises or traces a command, and finishes its trace.
    if matches!(
        cli.command,
        cli::Command::Report(_)
            | cli::Command::Diff { .. }
            | cli::Command::Export(_)
            | cli::Command::Doctor { .. }
            | cli::Command::Profiles { .. }
            | cli::Command::Man { .. }
    ) {
        cordon_core::sys::default_sigpipe();
    }
    let result = match cli.command {
        cli::Command::Run(cli::Deferred(args)) => run::run(*args, &order(), early),
        cli::Command::Trace(cli::Deferred(args)) => trace::trace(*args, &order()),
        cli::Command::Report(cli::Deferred(args)) => report::report(*args),
        cli::Command::Diff { a, b, json } => report::diff(&a, &b, json),
        cli::Command::Bisect(cli::Deferred(args)) => bisect::bisect(*args, &order()),
        cli::Command::Learn(cli::Deferred(args)) => learn::learn(*args, &order()),
        cli::Command::Import(cli::Deferred(args)) => import::import(*args, &order()),
        cli::Command::Export(cli::Deferred(args)) => export::export(*args, &order()),
        cli::Command::Doctor { json } => doctor::doctor(json),
        cli::Command::Profiles { name } => doctor::profiles(name.as_deref()),
        cli::Command::Man { subcommand } => man(subcommand.as_deref()),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("cordon: {e:#}");
            std::process::exit(EXIT_FAILURE);
        }
    }
}

/// The man page of `cordon`, or of one subcommand as `cordon-NAME`.
fn man(sub: Option<&str>) -> anyhow::Result<i32> {
    use clap::CommandFactory;
    let top = cli::Cli::command();
    let cmd = match sub {
        None => top,
        Some(name) => top
            .find_subcommand(name)
            .filter(|s| !s.is_hide_set())
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no subcommand `{name}`"))?
            .name(format!("cordon-{name}"))
            .bin_name(format!("cordon {name}")),
    };
    let title = match sub {
        None => "cordon".to_string(),
        Some(name) => format!("cordon-{name}"),
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).title(title).render(&mut out)?;
    std::io::Write::write_all(&mut std::io::stdout(), &out)?;
    Ok(0)
}

//! The command line, as clap definitions only; `run.rs` turns it into a policy.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Run a build in a declared filesystem view, without root.
///
/// cordon runs a command so that it sees only what a policy declares: paths visible read-only
/// or read-write, hidden (absent), denied, emptied or redirected, a fresh HOME, a scrubbed
/// environment. The default policy is the `build` profile: the system read-only, the working
/// directory read-write, a private /tmp, a fresh empty HOME, and the user and site
/// configuration of git, gpg, ssh, CMake, Python, pip and npm hidden.
#[derive(Debug, Parser)]
#[command(
    name = "cordon",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in the view a policy declares.
    ///
    /// Exit status: the command's own; 128+N when it dies of signal N; 125 when cordon itself
    /// fails (bad policy, sandbox cannot be set up), 126 when the command cannot be executed,
    /// 127 when it is not found.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Deferred<RunArgs>),
    /// Record every file access of a command and its whole process tree, unsandboxed.
    ///
    /// The command runs in the caller's real environment; the tracer (ptrace, with a seccomp
    /// filter that stops only at file system calls) sees static binaries, raw system calls
    /// and the dynamic loader's opens, and records each access with its result. The trace is
    /// written as JSON Lines while the command runs, so a killed run leaves a readable trace.
    /// Exit status: the command's own, as for `run`.
    Trace(Deferred<TraceArgs>),
    /// Classify a trace's accesses and report the breaches: what was reached for outside the
    /// declared view, by which process, owned by which package, and the rule that fixes it.
    Report(Deferred<ReportArgs>),
    /// Trace a command and write the smallest readable policy that lets it run, then verify.
    ///
    /// The command runs in a copy of the working directory under the tracer; the paths it
    /// consumed become prefixes (a system directory, a package's prefix, never `/`), each
    /// commented with its owner packages; breaches are left out and listed. Then the command
    /// runs again, in a fresh copy, under that policy alone, and learn says whether it
    /// behaved the same (exit status and files produced). Exit status: 0 when it did, 1 when
    /// it did not.
    Learn(Deferred<LearnArgs>),
    /// Find the few breaches (files, variables) that make a command behave differently in the
    /// real environment than in the sandbox, and print the rules that fix it.
    ///
    /// The command is traced once natively; the breaches it reached for (user and site
    /// configuration, registries, caches, ...) and the redirecting variables it was given are
    /// the candidates. Delta debugging then re-runs it, each time in a fresh copy of the work
    /// tree with the system visible and only some candidates hidden or unset, until the
    /// smallest set that reproduces the sandbox's outcome (or passes --check) is found.
    Bisect(Deferred<BisectArgs>),
    /// The inputs that differ between two traces of the same build, the telling ones first.
    ///
    /// Paths read, executed or listed on one side only, ranked by what they are: a breach
    /// (say a header in /usr/local/include one machine has) before a system file, before the
    /// build's own files. Each trace is judged against its own header's policy.
    Diff {
        /// The first trace.
        #[arg(value_name = "TRACE_A")]
        a: PathBuf,
        /// The second trace.
        #[arg(value_name = "TRACE_B")]
        b: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Turn another tracer's log into a cordon trace, for `cordon report`.
    ///
    /// strace (`-f` in one file or `-ff` per-pid files, with or without `-tt`/`-ttt`, `-T`,
    /// `-y`/`-yy`, `-s`), fs_usage (`-w`), dtruss (`-f`), kdump (OpenBSD and FreeBSD, with
    /// NAMI records). Lines that cannot be read are warnings naming the file and line.
    Import(Deferred<ImportArgs>),
    /// Write the policy as another sandbox's native configuration.
    ///
    /// bwrap: a shell script running bubblewrap with the same view (hides included, as
    /// mirrors). unveil: an OpenBSD C program. sandbox-exec: a macOS profile. landlock: a Linux
    /// C program. Each opens with a comment on what could not be expressed.
    Export(Deferred<ExportArgs>),
    /// Show what this kernel and user allow and which backends can run.
    Doctor {
        /// Print the facts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the built-in profiles, or print one.
    Profiles {
        /// Print this profile's TOML.
        name: Option<String>,
    },
    /// Print the man page (roff) on standard output.
    #[command(hide = true)]
    Man {
        /// A subcommand, for its own page (cordon-run).
        subcommand: Option<String>,
    },
}

/// A subcommand's options, defined to clap only when that subcommand is used: building every
/// subcommand's arguments took more of `cordon run`'s start than parsing its own.
#[derive(Debug)]
pub struct Deferred<T>(pub Box<T>);

impl<T: clap::FromArgMatches> clap::FromArgMatches for Deferred<T> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(m).map(|t| Deferred(Box::new(t)))
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(m)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(keep_texts::<T, false>)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(keep_texts::<T, true>)
    }
}

/// `T::augment_args` (or `augment_args_for_update`), keeping the texts the subcommand's own
/// definition gave (the options struct's doc comment would replace them, as it does not when
/// clap builds it eagerly).
fn keep_texts<T: Args, const UPDATE: bool>(cmd: clap::Command) -> clap::Command {
    use clap::builder::Resettable;
    let text = |t: Option<&clap::builder::StyledStr>| {
        t.cloned().map_or(Resettable::Reset, Resettable::Value)
    };
    let about = text(cmd.get_about());
    let long_about = text(cmd.get_long_about());
    let after_help = text(cmd.get_after_help());
    let after_long_help = text(cmd.get_after_long_help());
    let augment = if UPDATE {
        T::augment_args_for_update
    } else {
        T::augment_args
    };
    augment(cmd)
        .about(about)
        .long_about(long_about)
        .after_help(after_help)
        .after_long_help(after_long_help)
}

const RUN_EXAMPLES: &str = "\
Examples:
  cordon run -- ./configure --prefix=$PWD/install
  cordon run --hide /usr/include/zlib.h --ro /opt/zlib -- make
  cordon run --policy spack.toml --verbose -- make check
  cordon run --home keep --env-keep PIP_INDEX_URL -- pip install --no-deps .";

/// Options of `cordon learn`.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The policy whose knowledge of breaches decides what is left out (default: build).
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write the learned policy here.
    #[arg(
        short,
        long,
        value_name = "POLICY",
        default_value = "cordon-policy.toml"
    )]
    pub out: PathBuf,
    /// The work tree (default: the current directory); it is copied, never changed.
    #[arg(short = 'C', long = "chdir", value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Keep the copies and the trace, and say where they are.
    #[arg(long)]
    pub keep: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// Options of `cordon bisect`.
#[derive(Debug, Args)]
pub struct BisectArgs {
    /// The sandbox whose outcome is the reference, and whose knowledge of breaches and
    /// variables gives the candidates (default: build).
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// A shell command run in the work tree after each run; exit 0 means the run was good
    /// (instead of: the same exit status as in the sandbox).
    #[arg(long, value_name = "SCRIPT")]
    pub check: Option<String>,
    /// The work tree (default: the current directory); each run gets its own copy.
    #[arg(short = 'C', long = "chdir", value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Keep the copies, and say where they are.
    #[arg(long)]
    pub keep: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// Log formats of `cordon import`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportFormat {
    Strace,
    #[value(name = "fs_usage")]
    FsUsage,
    Dtruss,
    Kdump,
}

/// Options of `cordon import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The log's format.
    #[arg(value_enum, value_name = "FORMAT")]
    pub format: ImportFormat,
    /// The log file(s); strace -ff writes one per process.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the trace here (`.zst`: compressed).
    #[arg(
        short,
        long,
        value_name = "TRACE",
        default_value = "cordon-import.jsonl"
    )]
    pub out: PathBuf,
    /// The traced command's working directory (logs rarely say), for relative paths.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// The home directory on the traced machine (default: $HOME), for the knowledge base.
    #[arg(long, value_name = "DIR")]
    pub user_home: Option<PathBuf>,
    /// The policy to classify against, as for run and trace.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Targets of `cordon export`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportTarget {
    Bwrap,
    Unveil,
    SandboxExec,
    Landlock,
}

/// Options of `cordon export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The native format to write.
    #[arg(long = "to", value_enum, value_name = "TARGET")]
    pub to: ExportTarget,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The working directory the policy's `${CWD}` names.
    #[arg(short = 'C', long = "chdir", value_name = "DIR")]
    pub chdir: Option<PathBuf>,
}

/// Output formats of `cordon report`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    /// A versioned JSON document (schema in docs/report-schema.md).
    Json,
    /// A one-page summary for a bug report, details folded.
    Markdown,
    /// Plain text for a terminal.
    Text,
}

/// Options of `cordon report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The trace file written by `cordon trace`.
    #[arg(value_name = "TRACE")]
    pub trace: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `cordon trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The policy that reports classify the accesses against (nothing is enforced).
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write the trace here (JSON Lines; zstd-compressed when FILE ends in `.zst`, about a
    /// tenth of the size, flushed every 256 records instead of every record).
    #[arg(short, long, value_name = "FILE", default_value = "cordon-trace.jsonl")]
    pub out: PathBuf,
    /// Run the command in DIR.
    #[arg(short = 'C', long = "chdir", value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Say where the trace went and how many accesses it holds.
    #[arg(short, long)]
    pub verbose: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// The policy: profiles, files, and rules and variables as flags (shared by run and trace).
#[derive(Debug, Default, Args)]
pub struct PolicyArgs {
    /// Load a policy file (TOML); repeatable, later files win.
    #[arg(long = "policy", value_name = "FILE")]
    pub policy_files: Vec<PathBuf>,
    /// Use a built-in profile (build, git, gpg, cmake, python, pip, ssh, npm); repeatable.
    /// Without --policy or --profile, the `build` profile is used.
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Show PATH read-only.
    #[arg(long, value_name = "PATH")]
    pub ro: Vec<String>,
    /// Show PATH read-write.
    #[arg(long, value_name = "PATH")]
    pub rw: Vec<String>,
    /// Make PATH absent (ENOENT), even a single file inside a visible directory.
    #[arg(long, value_name = "PATH")]
    pub hide: Vec<String>,
    /// Make PATH present but unreadable (EACCES).
    #[arg(long, value_name = "PATH")]
    pub deny: Vec<String>,
    /// Put an empty file or directory in PATH's place.
    #[arg(long, value_name = "PATH")]
    pub empty: Vec<String>,
    /// Show OTHER's content at PATH, read-only.
    #[arg(long, value_name = "PATH=OTHER")]
    pub redirect: Vec<String>,
    /// Put a private, empty, writable directory at PATH.
    #[arg(long, value_name = "PATH")]
    pub tmpfs: Vec<String>,
    /// HOME inside: `fresh` (new and empty), `keep` (unchanged), or a directory to use.
    #[arg(long, value_name = "fresh|keep|PATH")]
    pub home: Option<String>,
    /// Keep this variable (after --env-clear or a profile's unset); `PREFIX*` matches a prefix.
    #[arg(long, value_name = "VAR")]
    pub env_keep: Vec<String>,
    /// Set a variable.
    #[arg(long, value_name = "VAR=VALUE")]
    pub env_set: Vec<String>,
    /// Remove a variable; `PREFIX*` matches a prefix.
    #[arg(long, value_name = "VAR")]
    pub env_unset: Vec<String>,
    /// Start from an empty environment (then --env-keep and --env-set apply).
    #[arg(long)]
    pub env_clear: bool,
    /// No network: only a private loopback interface (namespace backend), or IPv4, IPv6 and
    /// packet sockets refused (the backends without namespaces).
    #[arg(long)]
    pub no_network: bool,
}

/// A guarantee `--require` asks of the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Require {
    /// The kernel enforces the view against a hostile build (namespace, landlock).
    Enforce,
    /// Hidden paths are absent (ENOENT), not only unreadable.
    Hide,
}

/// Options of `cordon run`.
#[derive(Debug, Default, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The sandbox mechanism: auto (the strongest this machine allows), namespace, landlock,
    /// seccomp, ptrace, preload, or landlock paired with one of the last three
    /// (`landlock+ptrace`). `cordon doctor` shows which work here.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "auto",
        env = "CORDON_BACKEND"
    )]
    pub backend: String,
    /// Refuse to run unless the backend gives this guarantee: `enforce` (the kernel holds the
    /// view against a hostile build: namespace or landlock), `hide` (hidden paths are absent,
    /// ENOENT, not only unreadable). Repeatable.
    #[arg(long, value_name = "enforce|hide", value_enum)]
    pub require: Vec<Require>,
    /// Run the command in DIR (also the `${CWD}` of policies).
    #[arg(short = 'C', long = "chdir", value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Say what cordon set up: backend, profiles, removed variables, adjusted rules.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print the resolved policy and the mount plan, and do not run the command.
    #[arg(long)]
    pub dry_run: bool,
    /// Also record every file access of the command's process tree to FILE (as
    /// `cordon trace` does), including each attempt the sandbox blocked.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// Where each occurrence of the order-sensitive flags of `run` stood on the command line, so
/// that rules and environment changes apply in the order they were written (the last word
/// wins), whatever their kind.
#[derive(Debug, Default)]
pub struct FlagOrder {
    /// (position, flag id, nth value of that flag), sorted by position.
    pub occurrences: Vec<(usize, &'static str, usize)>,
}

/// The flags whose relative order matters, by clap id.
pub const ORDERED_FLAGS: [&str; 10] = [
    "ro",
    "rw",
    "hide",
    "deny",
    "empty",
    "redirect",
    "tmpfs",
    "env_keep",
    "env_set",
    "env_unset",
];

impl FlagOrder {
    pub fn of(m: &clap::ArgMatches) -> FlagOrder {
        let mut occurrences = Vec::new();
        for id in ORDERED_FLAGS {
            if let Some(indices) = m.indices_of(id) {
                occurrences.extend(indices.enumerate().map(|(nth, pos)| (pos, id, nth)));
            }
        }
        occurrences.sort_unstable();
        FlagOrder { occurrences }
    }
}

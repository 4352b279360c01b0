//! The command line's documentation: the man pages in docs/man are generated from the clap
//! definitions and must match them; --help lists every option of run.

use std::process::Command;

fn cordon(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn man_pages_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/man");
    for sub in [
        "", "run", "trace", "report", "import", "export", "doctor", "profiles",
    ] {
        let name = if sub.is_empty() {
            "cordon".to_string()
        } else {
            format!("cordon-{sub}")
        };
        let args: Vec<&str> = if sub.is_empty() {
            vec!["man"]
        } else {
            vec!["man", sub]
        };
        let generated = cordon(&args);
        let committed = std::fs::read_to_string(dir.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("docs/man/{name}.1: {e}; run scripts/gen-man"));
        assert_eq!(
            committed, generated,
            "docs/man/{name}.1 is stale: run scripts/gen-man"
        );
    }
}

#[test]
fn run_help_lists_every_option() {
    let help = cordon(&["run", "--help"]);
    for opt in [
        "--policy",
        "--profile",
        "--ro",
        "--rw",
        "--hide",
        "--deny",
        "--empty",
        "--redirect",
        "--tmpfs",
        "--home",
        "--env-keep",
        "--env-set",
        "--env-unset",
        "--env-clear",
        "--no-network",
        "--backend",
        "--chdir",
        "--verbose",
        "--dry-run",
    ] {
        assert!(help.contains(opt), "run --help lacks {opt}");
    }
    assert!(
        help.contains("128+N"),
        "run --help does not document exit statuses"
    );
}

#[test]
fn usage_errors_exit_125_and_help_exits_0() {
    let o = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["run"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    let o = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["--help"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let o = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["frobnicate"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn profiles_lists_and_prints() {
    let list = cordon(&["profiles"]);
    for p in [
        "build", "git", "gpg", "cmake", "python", "pip", "ssh", "npm",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(p)),
            "profiles lacks {p}: {list}"
        );
    }
    assert!(cordon(&["profiles", "git"]).contains(".gitconfig"));
}

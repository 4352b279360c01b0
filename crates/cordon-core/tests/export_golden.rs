//! Golden files for the exporters that depend on the policy alone (unveil, sandbox-exec,
//! Landlock). `CORDON_BLESS=1 cargo test` rewrites them after a deliberate change.

use std::path::Path;

mod common;
use common::check_golden as check;

use cordon_core::export;
use cordon_core::policy::{Class, Home, Origin, Policy, RuleKind};

fn policy() -> Policy {
    let mut p = Policy {
        home: Home::Fresh,
        network: false,
        sources: vec!["example policy".into()],
        ..Policy::default()
    };
    let o = || Origin::command_line();
    for (path, kind, class) in [
        ("/usr", RuleKind::Ro, Some(Class::System)),
        ("/opt/deps/zlib", RuleKind::Ro, None),
        ("/work/pkg", RuleKind::Rw, None),
        ("/tmp", RuleKind::Tmpfs, None),
        ("/dev", RuleKind::Dev, None),
        ("/proc", RuleKind::Proc, None),
        ("/usr/include/zlib.h", RuleKind::Hide, None),
        ("/etc/gitconfig", RuleKind::Empty, None),
        ("/home/u/.netrc", RuleKind::Deny, None),
    ] {
        p.push_rule(path, kind, class, None, o()).unwrap();
    }
    p
}

#[test]
fn exports_match_their_golden_files() {
    let p = policy();
    let unveil = export::unveil(&p);
    // What the outputs must say, whatever their layout.
    assert!(unveil.contains("unveil(\"/usr/include/zlib.h\", \"\")"));
    assert!(unveil.contains("empty /etc/gitconfig: no unveil equivalent"));
    check("export.unveil.c", &unveil);
    let sb = export::sandbox_exec(&p);
    assert!(sb.contains("(deny file-read* file-write* (subpath \"/usr/include/zlib.h\"))"));
    assert!(!sb.contains("(allow network*)"), "network is off");
    check("export.sb", &sb);
    let ll = export::landlock(&p);
    assert!(ll.contains("allow(\"/work/pkg\", ALL);"));
    assert!(!ll.contains("zlib.h"), "a hidden path is not granted");
    check("export.landlock.c", &ll);
}

/// The bwrap export of a policy of paths every Linux has (the plan looks at the host, so
/// it is the same anywhere), plus `extra` rules.
fn bwrap_of(extra: &[(&str, RuleKind)]) -> String {
    use cordon_core::env::ResolvedEnv;
    use cordon_core::plan::{compile, Context, Mirrors};
    let mut p = Policy {
        home: Home::Keep,
        network: false,
        sources: vec!["example policy".into()],
        ..Policy::default()
    };
    let base = [
        ("/usr", RuleKind::Ro),
        ("/tmp", RuleKind::Tmpfs),
        ("/dev", RuleKind::Dev),
        ("/proc", RuleKind::Proc),
    ];
    for (path, kind) in base.iter().chain(extra) {
        p.push_rule(path, kind.clone(), None, None, Origin::command_line())
            .unwrap();
    }
    let env = ResolvedEnv {
        vars: vec![("PATH".into(), "/usr/bin:/bin".into())],
        ..ResolvedEnv::default()
    };
    let ctx = Context {
        cwd: "/usr".into(),
        home: None,
        argv: vec!["sh".into()],
        envp: env.vars.clone(),
        root: false,
        mirrors: Mirrors::Binds,
    };
    let plan = compile(&p, &ctx).unwrap();
    export::bwrap(&p, &plan, &env, Path::new("/usr"))
}

#[test]
fn bwrap_export_matches_its_golden_file() {
    let script = bwrap_of(&[]);
    assert!(script.contains("--ro-bind /usr /usr"));
    assert!(script.contains("--unshare-net"));
    assert!(
        script.contains("--remount-ro /"),
        "the root tmpfs is read-only"
    );
    assert!(!script.contains("/dev/null"), "no file is emptied");
    check("export.bwrap.sh", &script);
}

#[test]
fn bwrap_export_of_an_emptied_file_binds_dev_null_and_says_so() {
    let script = bwrap_of(&[("/usr/bin/env", RuleKind::Empty)]);
    assert!(
        script.contains("--ro-bind /dev/null /usr/bin/env"),
        "{script}"
    );
    assert!(script.contains("# - `empty` and `deny` of a file are an empty character device"));
}

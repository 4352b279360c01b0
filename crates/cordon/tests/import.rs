//! `cordon import` + `cordon report` on the importers' fixture logs of the poisoned-HOME
//! scenario: the report names the same breaches as a native trace of it (same paths and
//! categories, and the processes where the format carries them). As root and as uid 65534.

use std::path::{Path, PathBuf};

use cordon_testutil::{as_each_user, describe, output, stderr, World};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cordon-core/tests/fixtures/import")
        .join(name)
}

/// Import `files` as `format` and report it as JSON.
fn import_report(w: &World, format: &str, files: &[&str], home: &str, cwd: &str) -> Value {
    let out = w.path(&format!("work/{format}.jsonl"));
    let mut args: Vec<String> = vec!["import".into(), format.into()];
    for f in files {
        // Copied into the world, so that uid 65534 can read them.
        let to = w.path(&format!("work/{f}"));
        std::fs::copy(fixture(f), &to).unwrap();
        args.push(to.to_string_lossy().into_owned());
    }
    args.extend([
        "-o".into(),
        out.to_string_lossy().into_owned(),
        "--user-home".into(),
        home.into(),
        "--cwd".into(),
        cwd.into(),
    ]);
    let o = output(w.cordon(&args));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let o = output(w.cordon(["report", out.to_str().unwrap(), "--format", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)))
}

fn breach<'a>(r: &'a Value, path: &str) -> &'a Value {
    r["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["path"] == path)
        .unwrap_or_else(|| panic!("no breach for {path} in {:#}", r["breaches"]))
}

fn exe_ends(b: &Value, name: &str) -> bool {
    b["process"]["exe"].as_str().unwrap_or("").ends_with(name)
        || b["process"]["argv"][0]
            .as_str()
            .unwrap_or("")
            .ends_with(name)
}

/// The scenario's breaches, as a native trace of it reports them.
fn check_scenario(r: &Value, home: &str, header: &str, python_site: &str, with_chain: bool) {
    let git = breach(r, &format!("{home}/.gitconfig"));
    assert_eq!(git["category"], "user-config");
    assert!(exe_ends(git, "git"), "{git}");
    assert_eq!(
        breach(r, &format!("{home}/.leakrc"))["category"],
        "user-config"
    );
    let cmake = breach(r, &format!("{home}/.cmake/packages/Poison/0123abcd"));
    assert_eq!(cmake["category"], "user-package-registry");
    assert_eq!(breach(r, python_site)["category"], "user-site-packages");
    let h = breach(r, header);
    assert_eq!(h["category"], "system-header");
    if with_chain {
        let chain: Vec<&str> = h["ancestry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["exe"].as_str().unwrap_or(""))
            .collect();
        assert!(chain.iter().any(|e| e.ends_with("make")), "{chain:?}");
    }
}

as_each_user! {
    fn strace_log(w) {
        let r = import_report(w, "strace", &["strace-poisoned.log"], "/home/u", "/home/u/src/pkg");
        check_scenario(&r, "/home/u", "/usr/include/zlib.h",
            "/home/u/.local/lib/python3.11/site-packages/leak.pth", true);
        assert!(r["coverage"]["tracer"].as_str().unwrap().contains("strace"));
    }
}

as_each_user! {
    fn kdump_log(w) {
        let r = import_report(w, "kdump", &["kdump-openbsd.log"], "/home/u", "/home/u/src/pkg");
        check_scenario(&r, "/home/u", "/usr/include/zlib.h",
            "/home/u/.local/lib/python3.11/site-packages/leak.pth", true);
    }
}

as_each_user! {
    fn dtruss_log(w) {
        let r = import_report(w, "dtruss", &["dtruss-poisoned.log"], "/Users/u", "/Users/u/src/pkg");
        check_scenario(&r, "/Users/u", "/usr/local/include/zlib.h",
            "/Users/u/.local/lib/python3.11/site-packages/leak.pth", false);
    }
}

as_each_user! {
    fn fs_usage_log(w) {
        let r = import_report(w, "fs_usage", &["fs_usage-poisoned.log"], "/Users/u", "/Users/u/src/pkg");
        check_scenario(&r, "/Users/u", "/usr/local/include/zlib.h",
            "/Users/u/.local/lib/python3.11/site-packages/leak.pth", false);
    }
}

as_each_user! {
    /// A garbage log is a clear error; a log with some garbage imports with warnings naming
    /// the lines.
    fn bad_logs(w) {
        let junk = w.write("work/junk.log", "\u{1}\u{2}binary junk\nnothing here\n");
        let o = output(w.cordon(["import", "strace", junk.to_str().unwrap(), "-o",
                                 w.path("work/j.jsonl").to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stderr(&o).contains("panicked"));
        let mixed = w.path("work/strace-garbage.log");
        std::fs::copy(fixture("strace-garbage.log"), &mixed).unwrap();
        let o = output(w.cordon(["import", "strace", mixed.to_str().unwrap(), "-o",
                                 w.path("work/m.jsonl").to_str().unwrap()]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stderr(&o).contains("strace-garbage.log:"), "{}", describe(&o));
    }
}

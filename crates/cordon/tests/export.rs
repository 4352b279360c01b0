//! Exports, run with the real tools: the bubblewrap script passes the same view and escape
//! checks as cordon's own namespace backend; the Landlock program compiles and confines.
//! As root and as uid 65534.

use cordon_testutil::{as_each_user, describe, output, require, stdout, World};

fn export(w: &World, to: &str, flags: &[&str]) -> std::path::PathBuf {
    let out = w.path(&format!("work/export-{to}"));
    let mut args = vec!["export", "--to", to, "-o", out.to_str().unwrap()];
    args.extend_from_slice(flags);
    let o = output(w.cordon(args));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    out
}

fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

as_each_user! {
    /// bubblewrap, running cordon's exported arguments: the hidden file is absent by every
    /// route, its siblings visible, read-only stays read-only, the writable dir is writable.
    fn bwrap_round_trip(w) {
        if !require(have("bwrap"), "bubblewrap is not installed") {
            return;
        }
        let secret = w.write("data/vis/secret", "s\n");
        w.write("data/vis/ok", "ok\n");
        w.crowd("data/vis");
        let scratch = w.mkdir("work/scratch");
        let data = w.path("data");
        let (secret, data, scratch_s) = (secret.to_str().unwrap(), data.to_str().unwrap(),
                                         scratch.to_str().unwrap());
        let script = export(w, "bwrap", &["-C", w.work().to_str().unwrap(), "--ro",
            w.bin_dir().to_str().unwrap(), "--ro", data, "--hide", secret, "--rw", scratch_s]);
        let run = |cmd: &[&str]| {
            let mut c = w.command("/bin/sh");
            c.arg(&script).args(cmd);
            output(c)
        };
        let esc = w.bin("escape-static");
        let o = run(&[esc.to_str().unwrap(), secret, scratch_s]);
        assert_eq!(o.status.code(), Some(0), "a route reached the hidden file: {}", describe(&o));
        assert!(stdout(&o).lines().count() >= 19, "{}", describe(&o));

        let probe = w.bin("probe-static");
        let o = run(&[probe.to_str().unwrap(), "stat", secret, "content",
                      &format!("{data}/vis/ok"), "write", &format!("{data}/new"),
                      "write", &format!("{scratch_s}/new")]);
        let out = stdout(&o);
        assert!(out.contains(&format!("stat {secret} ENOENT")), "{out}");
        assert!(out.contains("/vis/ok ok"), "{out}");
        assert!(out.contains(&format!("write {data}/new EROFS")), "{out}");
        assert!(out.contains(&format!("write {scratch_s}/new ok")), "{out}");
        // A hidden directory, by every route too.
        w.write("data/secretdir/inner", "s\n");
        let dir = w.path("data/secretdir");
        let script2 = export(w, "bwrap", &["-C", w.work().to_str().unwrap(), "--ro",
            w.bin_dir().to_str().unwrap(), "--ro", data, "--hide", dir.to_str().unwrap(),
            "--rw", scratch_s]);
        let o = output({
            let mut c = w.command("/bin/sh");
            c.arg(&script2).args([esc.to_str().unwrap(), dir.to_str().unwrap(), scratch_s]);
            c
        });
        assert_eq!(o.status.code(), Some(0), "a route reached the hidden dir: {}", describe(&o));
    }
}

as_each_user! {
    /// The exported Landlock program compiles and confines: what the policy does not grant
    /// is refused.
    fn landlock_program(w) {
        let doctor = output(w.cordon(["doctor", "--json"]));
        let facts: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
        if !require(!facts["host"]["landlock_abi"].is_null(), "Landlock is not enabled")
            || !require(have("gcc"), "gcc is not installed")
        {
            return;
        }
        let src = export(w, "landlock", &["--profile", "git", "--ro", "/usr", "--ro", "/lib",
            "--ro", "/lib64", "--ro", "/bin", "--ro", w.root().to_str().unwrap()]);
        let c = w.path("work/ll.c");
        std::fs::copy(&src, &c).unwrap();
        let bin = w.path("work/ll");
        let o = output({
            let mut cmd = w.command("gcc");
            cmd.args(["-Wall", "-Werror", "-o", bin.to_str().unwrap(), c.to_str().unwrap()]);
            cmd
        });
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let o = output({
            let mut cmd = w.command(&bin);
            cmd.args(["/bin/sh", "-c", "cat /etc/hostname; echo rc=$?; ls /usr | head -n1 && echo usr-ok"]);
            cmd
        });
        let out = stdout(&o);
        assert!(out.contains("usr-ok"), "{}", describe(&o));
        assert!(out.contains("rc=1"), "/etc was readable: {}", describe(&o));
    }
}

as_each_user! {
    /// The exported build profile keeps the poisoned HOME out under bubblewrap as cordon run
    /// does: shown natively first, then gone.
    fn bwrap_build_profile_keeps_user_config_out(w) {
        if !require(have("bwrap"), "bubblewrap is not installed") {
            return;
        }
        w.write("home/.gitconfig", "[user]\n\tname = Fake Identity\n");
        let script = export(w, "bwrap", &["-C", w.work().to_str().unwrap()]);
        let check = "git config user.name || echo no-identity";
        let native = output({
            let mut c = w.command("/bin/sh");
            c.args(["-c", check]);
            c
        });
        assert!(stdout(&native).contains("Fake Identity"), "{}", describe(&native));
        let o = output({
            let mut c = w.command("/bin/sh");
            c.arg(&script).args(["/bin/sh", "-c", check]);
            c
        });
        assert!(stdout(&o).contains("no-identity"), "{}", describe(&o));
        assert!(!stdout(&o).contains("Fake Identity"));
    }
}

//! `cordon doctor`, backend selection, and a machine without user namespaces (simulated inside
//! a user namespace whose max_user_namespaces is 0).

use cordon_testutil::{as_each_user, describe, output, stderr, stdout, World};

fn doctor_json(o: &std::process::Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", describe(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(o)))
}

fn backend<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["backend"] == name)
        .unwrap_or_else(|| panic!("no backend {name} in {v}"))
}

/// `sh -c SCRIPT` inside a new user namespace where no further user namespace can be made.
fn without_userns(w: &World, script: &str) -> std::process::Output {
    output({
        let mut c = w.command("unshare");
        c.args([
            "--user",
            "--map-root-user",
            "/bin/sh",
            "-c",
            &format!("echo 0 > /proc/sys/user/max_user_namespaces && {script}"),
        ]);
        c
    })
}

as_each_user! {
    fn doctor_reports_this_machine(w) {
        let v = doctor_json(&output(w.cordon(["doctor", "--json"])));
        assert_eq!(backend(&v, "namespace")["usable"], true, "{v}");
        assert_eq!(v["auto"], "namespace");
        assert!(v["host"]["kernel"].as_str().unwrap().len() > 2);
        for b in ["landlock", "seccomp", "ptrace", "preload"] {
            let reason = backend(&v, b)["reason"].as_str().unwrap();
            assert!(reason.contains("not implemented"), "{b}: {reason}");
        }
        let text = output(w.cordon(["doctor"]));
        assert!(stdout(&text).contains("namespace"), "{}", describe(&text));
    }
}

as_each_user! {
    /// Without user namespaces, run refuses with a reason (never runs unsandboxed), and
    /// doctor says why.
    fn no_user_namespaces(w) {
        let cordon = w.bin("cordon");
        let o = without_userns(w, &format!("{} run -- /bin/echo ran", cordon.display()));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stdout(&o).contains("ran"));
        assert!(stderr(&o).contains("max_user_namespaces"), "{}", describe(&o));

        let o = without_userns(w, &format!("{} run --backend namespace -- /bin/echo ran",
                                           cordon.display()));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stdout(&o).contains("ran"));

        // Tracing needs no user namespace: it still records.
        let trace = w.path("work/t.jsonl");
        let o = without_userns(w, &format!("{} trace -o {} -- cat /etc/hostname && {} report {}",
            cordon.display(), trace.display(), cordon.display(), trace.display()));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let text = std::fs::read_to_string(&trace).unwrap();
        assert!(text.contains("\"path\":\"/etc/hostname\""), "{text}");

        let v = doctor_json(&without_userns(w, &format!("{} doctor --json", cordon.display())));
        let ns = backend(&v, "namespace");
        assert_eq!(ns["usable"], false, "{v}");
        assert!(ns["reason"].as_str().unwrap().contains("max_user_namespaces"), "{v}");
        assert!(v["auto"].is_null(), "{v}");
    }
}

as_each_user! {
    /// A backend that does not exist yet is a clear error, never a fake.
    fn unimplemented_backends_are_refused(w) {
        for b in ["landlock", "seccomp", "ptrace", "preload"] {
            let o = w.run_in_sandbox(&["--backend", b], &["/bin/echo", "ran"]);
            assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
            assert!(!stdout(&o).contains("ran"));
            assert!(stderr(&o).contains("not implemented"), "{}", describe(&o));
        }
        let o = w.run_in_sandbox(&["--backend", "magic"], &["true"]);
        assert_eq!(o.status.code(), Some(125));
        assert!(stderr(&o).contains("unknown backend"), "{}", describe(&o));
    }
}

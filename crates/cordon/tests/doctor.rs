//! `cordon doctor`, backend selection, and a machine without user namespaces (simulated inside
//! a user namespace whose max_user_namespaces is 0).

use cordon_testutil::{as_each_user, describe, output, stderr, stdout};

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

as_each_user! {
    fn doctor_reports_this_machine(w) {
        let v = doctor_json(&output(w.cordon(["doctor", "--json"])));
        assert_eq!(backend(&v, "namespace")["usable"], true, "{v}");
        assert_eq!(v["auto"], "namespace");
        assert!(v["host"]["kernel"].as_str().unwrap().len() > 2);
        // This machine's kernel has Landlock and no Yama restriction on ptrace.
        for b in ["landlock", "ptrace"] {
            assert_eq!(backend(&v, b)["usable"], true, "{b}: {v}");
        }
        assert!(backend(&v, "landlock")["reason"].as_str().unwrap().contains("ABI"), "{v}");
        // Landlock's weaker hide is stated where the backends are listed.
        let landlock = backend(&v, "landlock")["guarantees"].as_str().unwrap();
        assert!(landlock.contains("hide degrades to EACCES"), "{v}");
        let text = output(w.cordon(["doctor"]));
        assert!(stdout(&text).contains("namespace"), "{}", describe(&text));
        assert!(stdout(&text).contains("hide degrades to EACCES"), "{}", describe(&text));
    }
}

as_each_user! {
    /// Without user namespaces (and without capabilities, with no_new_privs), auto picks
    /// Landlock with ptrace and says so; the run still isolates; asking for the namespace
    /// backend by name is refused; doctor says why; tracing still records.
    fn no_user_namespaces(w) {
        w.write("home/.gitconfig", "[user]\n\tname = Poison\n");
        w.without_user_namespaces();
        let o = w.run_in_sandbox(&[], &["/bin/sh", "-c",
            "cat ~/.gitconfig; echo status=$?; grep -c CapEff:.0000000000000000 /proc/self/status"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stdout(&o).contains("status=1"), "{}", describe(&o));
        assert!(stdout(&o).ends_with("1\n"), "capabilities left: {}", describe(&o));
        assert!(!stdout(&o).contains("Poison"), "{}", describe(&o));
        assert!(stderr(&o).contains("No such file"), "{}", describe(&o));
        assert!(stderr(&o).contains("max_user_namespaces"), "{}", describe(&o));
        assert!(stderr(&o).contains("running with the landlock+ptrace backend"),
                "{}", describe(&o));
        // The fallback enforces, so --require enforce is met.
        let o = w.run_in_sandbox(&["--require", "enforce"], &["/bin/true"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

        let o = output(w.cordon(["run", "--backend", "namespace", "--", "/bin/echo", "ran"]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stdout(&o).contains("ran"));

        // Tracing needs no user namespace: it still records.
        let trace = w.path("work/t.jsonl");
        let o = output(w.cordon(["trace", "-o", trace.to_str().unwrap(), "--", "cat",
                                 "/etc/hostname"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let text = std::fs::read_to_string(&trace).unwrap();
        assert!(text.contains("\"path\":\"/etc/hostname\""), "{text}");

        let v = doctor_json(&output(w.cordon(["doctor", "--json"])));
        let ns = backend(&v, "namespace");
        assert_eq!(ns["usable"], false, "{v}");
        assert!(ns["reason"].as_str().unwrap().contains("max_user_namespaces"), "{v}");
        assert_eq!(v["auto"], "landlock+ptrace", "{v}");
        assert_eq!(v["auto_enforces"], true, "{v}");
    }
}

as_each_user! {
    /// --require refuses a backend that cannot give the guarantee, before running anything.
    fn require_refuses_weaker_backends(w) {
        let o = w.run_in_sandbox(&["--backend", "ptrace", "--require", "enforce"],
                                 &["/bin/echo", "ran"]);
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stdout(&o).contains("ran"));
        assert!(stderr(&o).contains("does not enforce"), "{}", describe(&o));
        let o = w.run_in_sandbox(&["--backend", "landlock", "--require", "hide"],
                                 &["/bin/echo", "ran"]);
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("cannot make hidden paths absent"), "{}", describe(&o));
        let o = w.run_in_sandbox(&["--backend", "landlock", "--redirect", "/etc/hostname=/etc/hosts"],
                                 &["/bin/echo", "ran"]);
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("cannot show other content"), "{}", describe(&o));
        let o = output(w.cordon(["run", "--backend", "seccomp", "--trace", "t.jsonl", "--",
                                 "true"]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("--trace cannot be combined"), "{}", describe(&o));
        let o = output(w.cordon(["run", "--backend", "landlock+namespace", "--", "true"]));
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("only landlock pairs"), "{}", describe(&o));
    }
}

as_each_user! {
    /// A run says which backend ran and how its view differs from the policy: on stderr with
    /// --verbose, and in the trace (header) and the report (coverage) with --trace.
    fn runs_record_the_backend_and_its_guarantees(w) {
        let o = w.run_in_sandbox(&["--backend", "landlock", "--verbose"], &["/bin/true"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        for said in ["backend landlock:", "Landlock ABI", "degraded: tmpfs /tmp",
                     "degraded: hide is EACCES"] {
            assert!(stderr(&o).contains(said), "{said}: {}", describe(&o));
        }
        let trace = w.path("work/t.jsonl");
        let t = trace.to_str().unwrap();
        let o = w.run_in_sandbox(&["--backend", "landlock", "--trace", t], &["/bin/cat",
                                                                          "/etc/hostname"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let header = std::fs::read_to_string(&trace).unwrap();
        let header = header.lines().next().unwrap().to_string();
        assert!(header.contains("under the landlock backend"), "{header}");
        assert!(header.contains("the view differs: tmpfs /tmp"), "{header}");
        let r = output(w.cordon(["report", "--format", "markdown", t]));
        assert_eq!(r.status.code(), Some(0), "{}", describe(&r));
        assert!(stdout(&r).contains("under the landlock backend"), "{}", describe(&r));
        assert!(stdout(&r).contains("- the view differs: hide is EACCES"), "{}", describe(&r));
    }
}

as_each_user! {
    /// cordon inside cordon: the inner run gets a sandbox too. An unprivileged user nests
    /// namespaces; root without capabilities cannot map uid 0 again, and falls back (out
    /// loud) to a backend that needs no namespace.
    fn cordon_inside_cordon(w) {
        w.write("home/.gitconfig", "[user]\n\tname = Poison\n");
        let inner = w.bin("cordon");
        let o = w.run_in_sandbox(&[], &[inner.to_str().unwrap(), "run", "--", "/bin/sh", "-c",
                                        "echo inner ran; cat ~/.gitconfig"]);
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        assert!(stdout(&o).contains("inner ran"), "{}", describe(&o));
        assert!(!stdout(&o).contains("Poison"), "{}", describe(&o));
        if stderr(&o).contains("cannot be set up") {
            assert!(stderr(&o).contains("running with the"), "{}", describe(&o));
        }
    }
}

as_each_user! {
    /// Under Landlock alone a hidden directory is only unreadable, so a PATH entry inside it
    /// (~/.pyenv/shims behind the fresh home) would still be found by a PATH search, and fail
    /// to run: such entries leave PATH, and --verbose says so.
    fn landlock_drops_path_entries_it_cannot_hide(w) {
        let tool = w.script("home/bin/mytool", "#!/bin/sh\necho ran\n");
        let dir = tool.parent().unwrap().to_str().unwrap().to_string();
        let mut c = w.cordon(["run", "--backend", "landlock", "--verbose", "--", "/bin/sh",
                              "-c", "command -v mytool || echo not-found; echo PATH=$PATH"]);
        c.env("PATH", format!("{dir}:/usr/bin:/bin"));
        let o = output(c);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stdout(&o).contains("not-found"), "{}", describe(&o));
        assert!(stdout(&o).contains("PATH=/usr/bin:/bin\n"), "{}", describe(&o));
        assert!(stderr(&o).contains(&format!("PATH: removed entries that hide makes unreadable: {dir}")),
                "{}", describe(&o));
    }
}

as_each_user! {
    /// The preload backend refuses a private directory on a noexec file system, where the
    /// loader would skip the shim and run the program outside the view.
    fn preload_refuses_a_noexec_tmpdir(w) {
        let mnt = w.mkdir("noexec");
        let script = format!(
            "mount -t tmpfs -o noexec tmpfs {m} && TMPDIR={m} {c} run --backend preload -- \
             /bin/echo ran",
            m = mnt.display(),
            c = w.bin("cordon").display()
        );
        let o = output({
            let mut c = w.command("unshare");
            c.args(["--user", "--map-root-user", "--mount", "/bin/sh", "-c", &script]);
            c
        });
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stdout(&o).contains("ran"), "{}", describe(&o));
        assert!(stderr(&o).contains("noexec"), "{}", describe(&o));
    }
}

as_each_user! {
    /// --no-network without a network namespace: IPv4 and IPv6 sockets are refused, Unix
    /// sockets still work, on each backend that runs without namespaces.
    fn no_network_without_namespaces(w) {
        let script = "import socket\n\
            for fam in (socket.AF_INET, socket.AF_INET6):\n\
            \x20   try:\n\
            \x20       socket.socket(fam); print('inet-open')\n\
            \x20   except PermissionError: print('inet-refused')\n\
            socket.socket(socket.AF_UNIX); print('unix-ok')\n";
        for backend in ["landlock", "seccomp", "ptrace", "preload"] {
            let o = w.run_in_sandbox(&["--backend", backend, "--no-network"],
                                     &["/usr/bin/python3", "-c", script]);
            assert_eq!(o.status.code(), Some(0), "{backend}: {}", describe(&o));
            assert_eq!(stdout(&o), "inet-refused\ninet-refused\nunix-ok\n", "{backend}: {}",
                       describe(&o));
            // And without the flag the network is there.
            let o = w.run_in_sandbox(&["--backend", backend], &["/usr/bin/python3", "-c", script]);
            assert_eq!(stdout(&o), "inet-open\ninet-open\nunix-ok\n", "{backend}: {}",
                       describe(&o));
        }
    }
}

as_each_user! {
    /// The seccomp backend's fast path: dynamic programs carry the preload shim's stub (its own
    /// path walks skip the supervisor), and what they see is still the view.
    fn seccomp_fast_path_is_in_use_and_answers_the_same(w) {
        let secret = w.write("home/.gitconfig", "[user]\n\tname = Poison\n");
        let script = format!(
            "grep -c '^7c0de0000000-' /proc/self/maps; \
             realpath -e {s} || echo no-realpath; cat {s} || true; \
             python3 -c \"import os; print(os.path.realpath('/etc/hostname'))\"",
            s = secret.display()
        );
        let o = w.run_in_sandbox(&["--backend", "seccomp"], &["/bin/sh", "-c", &script]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let out = stdout(&o);
        assert!(out.starts_with("1\n"), "no stub mapped: {}", describe(&o));
        assert!(out.contains("no-realpath") && !out.contains("Poison"), "{}", describe(&o));
        assert!(out.contains("/etc/hostname"), "{}", describe(&o));
        // The plain preload backend maps no stub.
        let o = w.run_in_sandbox(&["--backend", "preload"], &["/bin/sh", "-c",
            "grep -c '^7c0de0000000-' /proc/self/maps || true"]);
        assert_eq!(stdout(&o), "0\n", "{}", describe(&o));
    }
}

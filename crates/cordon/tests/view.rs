//! The filesystem view: every rule kind, seen from a dynamic and a static probe, as root and
//! as an unprivileged user.

use cordon_testutil::{as_each_backend, as_each_user, describe, output, stderr, stdout, World};

/// Run the probe (dynamic and static) in the sandbox, with read-only mirrors made by overlayfs
/// and by binds, and return its result lines, which must agree between all four runs. Under
/// the preload backend only the dynamic probe runs (the shim cannot enter a static one).
fn probe(w: &World, extra: &[&str], ops: &[&str]) -> Vec<String> {
    probe_each(w, extra, ops, &|| {})
}

/// [`probe`], calling `reset` before each run (to undo what a run wrote on the host).
fn probe_each(w: &World, extra: &[&str], ops: &[&str], reset: &dyn Fn()) -> Vec<String> {
    let mut results = Vec::new();
    let bins: &[&str] = if w.backend() == Some("preload") {
        &["probe-dyn"]
    } else {
        &["probe-dyn", "probe-static"]
    };
    let mirrors: &[&str] = if w.backend().unwrap_or("namespace") == "namespace" {
        &["overlay", "binds"]
    } else {
        &["overlay"]
    };
    for bin in bins {
        for mirror in mirrors {
            reset();
            let path = w.bin(bin);
            let mut cmd = vec![path.to_str().unwrap()];
            cmd.extend_from_slice(ops);
            let o = w.run_in_sandbox_env(extra, &cmd, &[("CORDON_MIRROR", mirror)]);
            assert_eq!(o.status.code(), Some(0), "{bin} {mirror}: {}", describe(&o));
            results.push(stdout(&o).lines().map(str::to_string).collect::<Vec<_>>());
        }
    }
    for r in &results[1..] {
        assert_eq!(
            &results[0], r,
            "the probes disagree between builds or mirror kinds"
        );
    }
    results.swap_remove(0)
}

/// What `op` on a hidden file answers under the world's backend; None where the backend
/// does not claim the route (the preload shim does not see raw system calls).
fn hidden_answer(w: &World, op: &str) -> Option<&'static str> {
    let backend = w.backend().unwrap_or("namespace");
    match (backend, op) {
        // Landlock refuses to read or run it, and lets stat and access see it.
        ("landlock", "open" | "exec" | "openat2" | "rawopen") => Some("EACCES"),
        ("landlock", "readlink") => Some("EINVAL"),
        ("landlock", _) => Some("ok"),
        ("preload", "statx" | "faccessat2" | "openat2" | "rawopen") => None,
        _ => Some("ENOENT"),
    }
}

/// Whether the world's backend leaves hidden names out of directory listings.
fn filters_listings(w: &World) -> bool {
    matches!(
        w.backend().unwrap_or("namespace"),
        "namespace" | "ptrace" | "seccomp" | "preload" | "landlock+ptrace" | "landlock+seccomp"
    )
}

fn line<'a>(lines: &'a [String], op: &str, path: &str) -> &'a str {
    let prefix = format!("{op} {path} ");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no result for {op} {path} in {lines:?}"))
}

as_each_backend! {
    /// A hidden file inside a visible directory is ENOENT for open, stat, access, readlink
    /// and exec; its siblings stay visible and the directory listing omits it.
    fn hidden_file_in_visible_dir(w) {
        let secret = w.script("data/vis/secret.sh", "#!/bin/sh\necho leaked\n");
        w.write("data/vis/ok", "ok\n");
        w.crowd("data/vis");
        let secret = secret.to_str().unwrap();
        let vis = w.path("data/vis");
        let vis = vis.to_str().unwrap();
        let ok = format!("{vis}/ok");
        let data = w.path("data");

        // Natively the file is there, for every op.
        let native = output({
            let mut c = w.command(w.bin("probe-static"));
            c.args(["open", secret, "stat", secret, "access", secret, "exec", secret]);
            c
        });
        assert!(!stdout(&native).contains("ENOENT"), "{}", describe(&native));

        let ops = [
            "open", secret, "stat", secret, "lstat", secret, "statx", secret, "access", secret,
            "faccessat2", secret, "readlink", secret, "exec", secret, "openat2", secret,
            "rawopen", secret, "content", &ok, "ls", vis,
        ];
        let lines = probe(w, &["--ro", data.to_str().unwrap(), "--hide", secret], &ops);
        for op in ["open", "stat", "lstat", "statx", "access", "faccessat2", "readlink", "exec",
                   "openat2", "rawopen"] {
            if let Some(answer) = hidden_answer(w, op) {
                assert_eq!(line(&lines, op, secret), answer, "{op}: {lines:?}");
            }
        }
        assert_eq!(line(&lines, "content", &ok), "ok");
        let listing: Vec<&str> = line(&lines, "ls", vis).split(',').collect();
        assert!(listing.contains(&"ok"), "{listing:?}");
        assert_eq!(!listing.iter().any(|e| e.starts_with("secret")), filters_listings(w),
                   "{listing:?}");
    }
}

as_each_backend! {
    /// A hidden directory is absent, with everything under it.
    fn hidden_directory(w) {
        w.write("data/secrets/key", "k\n");
        w.write("data/other", "o\n");
        let data = w.path("data");
        let dir = w.path("data/secrets");
        let key = w.path("data/secrets/key");
        let (data, dir, key) = (data.to_str().unwrap(), dir.to_str().unwrap(), key.to_str().unwrap());
        let lines = probe(w, &["--ro", data, "--hide", dir],
            &["stat", dir, "open", key, "opendir", dir, "ls", data]);
        let refused = if w.hides() { "ENOENT" } else { "EACCES" };
        assert_eq!(line(&lines, "stat", dir), if w.hides() { "ENOENT" } else { "ok" });
        assert_eq!(line(&lines, "open", key), refused);
        assert_eq!(line(&lines, "opendir", dir), refused);
        if filters_listings(w) {
            assert_eq!(line(&lines, "ls", data), "other");
        }
    }
}

as_each_backend! {
    /// A hidden directory directly under `/` is absent too, and the rest of the root is still
    /// the host's: the root itself is then mirrored.
    fn hidden_directory_under_the_root(w) {
        let Some(top) = ["/srv", "/mnt", "/opt", "/media"]
            .into_iter()
            .find(|d| std::path::Path::new(d).is_dir())
        else {
            eprintln!("skipped: no top-level directory to hide");
            return;
        };
        let lines = probe(w, &["--hide", top], &["stat", top, "stat", "/usr", "ls", "/"]);
        assert_eq!(line(&lines, "stat", top), if w.hides() { "ENOENT" } else { "ok" });
        assert_eq!(line(&lines, "stat", "/usr"), "ok");
        if filters_listings(w) {
            let listing: Vec<&str> = line(&lines, "ls", "/").split(',').collect();
            assert!(listing.contains(&"usr"), "{listing:?}");
            assert!(!listing.contains(&&top[1..]), "{listing:?}");
        }
        if w.backend().unwrap_or("namespace") == "namespace" {
            // A directory the host lacks, added at the root, mirrors it too. Nothing in the
            // policy says so before the plan: the init has bound the host's root ahead.
            let added = "/cordon-view-test-added";
            assert!(!std::path::Path::new(added).exists());
            let lines = probe(w, &["--tmpfs", added], &["stat", added, "stat", "/usr", "ls", "/"]);
            assert_eq!(line(&lines, "stat", added), "ok");
            assert_eq!(line(&lines, "stat", "/usr"), "ok");
            let listing: Vec<&str> = line(&lines, "ls", "/").split(',').collect();
            assert!(listing.contains(&"usr") && listing.contains(&&added[1..]), "{listing:?}");
        }
    }
}

as_each_backend! {
    /// ro is read-only, rw is writable and writes reach the host, deny is EACCES, empty is
    /// empty, redirect shows the other file, tmpfs is private and empty.
    fn rule_kinds(w) {
        w.write("ro/file", "ro\n");
        w.write("rw/file", "rw\n");
        w.write("deny/file", "secret\n");
        w.write("emptyme", "not empty\n");
        w.write("emptydir/inside", "x\n");
        w.write("pinned", "pinned content\n");
        w.write("redirected", "original\n");
        w.write("scratch/old", "x\n");
        let p = |r: &str| w.path(r).to_str().unwrap().to_string();
        let (ro, rw, deny, emptyme, emptydir, pinned, redirected, scratch) = (
            p("ro"), p("rw"), p("deny/file"), p("emptyme"), p("emptydir"), p("pinned"),
            p("redirected"), p("scratch"),
        );
        let redirect = format!("{redirected}={pinned}");
        let rules = ["--ro", w.root().to_str().unwrap(), "--rw", &rw, "--deny", &deny,
              "--empty", &emptyme, "--empty", &emptydir, "--redirect", &redirect,
              "--tmpfs", &scratch];
        if w.backend() == Some("landlock") {
            // Landlock alone cannot show other content at a path: refused, never faked.
            let o = w.run_in_sandbox(&rules, &["/bin/true"]);
            assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
            assert!(stderr(&o).contains("cannot show other content"), "{}", describe(&o));
            return;
        }
        // Under seccomp the tmpfs is the host's: each run starts from what the host had.
        let new_in_scratch = w.path("scratch/new");
        let lines = probe_each(w, &rules,
            &["write", &format!("{ro}/new"), "content", &format!("{ro}/file"),
              "write", &format!("{rw}/new"),
              "open", &deny, "stat", &deny,
              "content", &emptyme, "ls", &emptydir,
              "content", &redirected, "write", &redirected,
              "ls", &scratch, "write", &format!("{scratch}/new")],
            &|| {
                let _ = std::fs::remove_file(&new_in_scratch);
            });
        assert_eq!(line(&lines, "write", &format!("{ro}/new")), "EROFS");
        assert_eq!(line(&lines, "content", &format!("{ro}/file")), "ro");
        assert_eq!(line(&lines, "write", &format!("{rw}/new")), "ok");
        assert_eq!(line(&lines, "open", &deny), "EACCES");
        // Present, only unreadable.
        assert_eq!(line(&lines, "stat", &deny), "ok");
        assert_eq!(line(&lines, "content", &emptyme), "");
        assert_eq!(line(&lines, "ls", &emptydir), "");
        assert_eq!(line(&lines, "content", &redirected), "pinned content");
        assert_eq!(line(&lines, "write", &redirected), "EROFS");
        // Without a way to rewrite paths (seccomp), the tmpfs is the host's directory.
        assert_eq!(line(&lines, "ls", &scratch), if w.rewrites() { "" } else { "old" });
        assert_eq!(line(&lines, "write", &format!("{scratch}/new")), "ok");
        // Writes in rw reach the host; writes in tmpfs do not; nothing was created for the
        // mount points on the host.
        assert!(w.path("rw/new").exists());
        assert_eq!(!w.path("scratch/new").exists(), w.rewrites());
        assert_eq!(std::fs::read_to_string(w.path("emptyme")).unwrap(), "not empty\n");
    }
}

as_each_user! {
    /// The longest prefix wins: a read-write directory inside a read-only one, a visible
    /// file inside a hidden directory, and a rule for a path the host lacks (created in the
    /// view, never on the host).
    fn longest_prefix_and_missing_paths(w) {
        w.write("tree/a/keep", "k\n");
        w.write("tree/a/b/file", "f\n");
        w.write("tree/hidden/visible", "v\n");
        w.write("tree/hidden/other", "o\n");
        let p = |r: &str| w.path(r).to_str().unwrap().to_string();
        let lines = probe(w,
            &["--ro", &p("tree"), "--rw", &p("tree/a/b"), "--hide", &p("tree/hidden"),
              "--ro", &p("tree/hidden/visible"), "--tmpfs", &p("tree/missing/dir")],
            &["write", &p("tree/a/new"), "write", &p("tree/a/b/new"),
              "content", &p("tree/hidden/visible"), "stat", &p("tree/hidden/other"),
              "write", &p("tree/missing/dir/x")]);
        assert_eq!(line(&lines, "write", &p("tree/a/new")), "EROFS");
        assert_eq!(line(&lines, "write", &p("tree/a/b/new")), "ok");
        assert_eq!(line(&lines, "content", &p("tree/hidden/visible")), "v");
        assert_eq!(line(&lines, "stat", &p("tree/hidden/other")), "ENOENT");
        assert_eq!(line(&lines, "write", &p("tree/missing/dir/x")), "ok");
        assert!(!w.path("tree/missing").exists(), "a mount point was created on the host");
    }
}

as_each_user! {
    /// The build profile: the system is read-only, /tmp is private, HOME is fresh and
    /// empty, and only the working directory is writable.
    fn build_profile_defaults(w) {
        w.write("home/.profile-marker", "x\n");
        let home = w.home();
        let home = home.to_str().unwrap();
        let work = w.work();
        let work = work.to_str().unwrap();
        let tmp_file = format!("/tmp/cordon-view-test-{}", std::process::id());
        let lines = probe(w, &[],
            &["write", "/etc/cordon-test", "ls", home, "write", &format!("{home}/f"),
              "write", &format!("{work}/f"), "write", &tmp_file,
              "stat", "/proc/self/exe", "stat", "/dev/null"]);
        assert_eq!(line(&lines, "write", "/etc/cordon-test"), "EROFS");
        assert_eq!(line(&lines, "ls", home), "");
        assert_eq!(line(&lines, "write", &format!("{home}/f")), "ok");
        assert_eq!(line(&lines, "write", &format!("{work}/f")), "ok");
        assert_eq!(line(&lines, "write", &tmp_file), "ok");
        assert_eq!(line(&lines, "stat", "/proc/self/exe"), "ok");
        assert_eq!(line(&lines, "stat", "/dev/null"), "ok");
        assert!(w.path("work/f").exists());
        assert!(!w.path("home/f").exists(), "the fresh home wrote to the real one");
        assert!(!std::path::Path::new(&tmp_file).exists(), "/tmp is not private");
    }
}

as_each_user! {
    /// A rule for a single file whose directory exists only in the sandbox (inside a tmpfs of
    /// cordon's) gets its directory made.
    fn file_rule_under_a_private_directory(w) {
        let f = w.write("outside/deep/file.txt", "content\n");
        let f = f.to_str().unwrap();
        let lines = probe(w, &["--tmpfs", w.path("outside").to_str().unwrap(), "--ro", f],
                          &["content", f]);
        assert_eq!(line(&lines, "content", f), "content");
    }
}

as_each_user! {
    /// A hidden entry of a writable directory is unreadable (EACCES) rather than absent, and
    /// files the command creates in that directory reach the host.
    fn hide_inside_a_writable_directory(w) {
        w.write("work/.secretrc", "token\n");
        let work = w.work();
        let secret = work.join(".secretrc");
        let (secret, new) = (secret.to_str().unwrap(), work.join("output.txt"));
        let o = w.run_in_sandbox(&["--hide", secret],
            &["/bin/sh", "-c", &format!("cat {secret}; echo built > output.txt")]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(!stdout(&o).contains("token"), "{}", describe(&o));
        assert_eq!(std::fs::read_to_string(new).unwrap(), "built\n");
    }
}

as_each_user! {
    /// Rules and variables given as flags apply in the order written: the last word wins.
    fn flags_apply_in_command_line_order(w) {
        let f = w.write("data/f", "visible\n");
        let (data, f) = (w.path("data"), f.to_str().unwrap().to_string());
        let data = data.to_str().unwrap();
        let show = format!("cat {f} 2>/dev/null || echo absent; echo FOO=${{FOO-unset}}");
        let run = |flags: &[&str]| {
            let mut all = vec!["--ro", data];
            all.extend_from_slice(flags);
            stdout(&w.run_in_sandbox(&all, &["/bin/sh", "-c", &show]))
        };
        assert_eq!(run(&["--hide", &f, "--ro", &f, "--env-unset", "FOO", "--env-set", "FOO=1"]),
                   "visible\nFOO=1\n");
        assert_eq!(run(&["--ro", &f, "--hide", &f, "--env-set", "FOO=1", "--env-unset", "FOO"]),
                   "absent\nFOO=unset\n");
    }
}

as_each_backend! {
    /// The working directory keeps the name the command gave it, also inside a private /tmp
    /// or home that a backend without namespaces keeps elsewhere on the host.
    fn working_directory_keeps_its_name(w) {
        // TMPDIR is set where /tmp is the host's (Landlock, seccomp); the world's own /tmp
        // entries make /tmp one that Landlock can only carve, not create entries in.
        let o = w.run_in_sandbox(&[], &["/bin/sh", "-c",
            "t=${TMPDIR:-/tmp}/cwd-test-$$; mkdir -p $t/sub && cd $t/sub && \
             test \"$(/bin/pwd)\" = $t/sub && echo tmp-ok && rm -r $t && \
             cd && test \"$(/bin/pwd)\" = \"$HOME\" && echo home-ok"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert_eq!(stdout(&o), "tmp-ok\nhome-ok\n", "{}", describe(&o));
    }
}

as_each_user! {
    /// A policy with a second `dev` and `proc` rule gets them as well as the first: the init
    /// makes one of each ahead of the plan, and binds the second from the first. A policy with
    /// neither (bare bwrap's view) shows the host's /dev.
    fn second_dev_and_proc_and_none(w) {
        let work = w.work();
        for d in ["dev2", "proc2"] {
            std::fs::create_dir_all(work.join(d)).unwrap();
        }
        let (dev2, proc2) = (work.join("dev2"), work.join("proc2"));
        let (dev2, proc2) = (dev2.to_str().unwrap(), proc2.to_str().unwrap());
        let policy = w.write(
            "two.toml",
            &format!("extends = [\"build\"]\nrules = [ {{ dev = \"{dev2}\" }}, \
                      {{ proc = \"{proc2}\" }} ]\n"),
        );
        let script = format!(
            "ls /dev | tr '\\n' ' '; echo; ls {dev2} | tr '\\n' ' '; echo; \
             test -c {dev2}/null && echo dev2-null; \
             test -r {proc2}/self/status && echo proc2-self; \
             awk '$5 == \"{proc2}/sys\" {{ print \"sys\", substr($6, 1, 3) }}' /proc/self/mountinfo"
        );
        let o = w.run_in_sandbox(&["--policy", policy.to_str().unwrap()],
                                 &["/bin/sh", "-c", &script]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let out = stdout(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], lines[1], "the second /dev differs from the first:\n{out}");
        assert!(lines[0].contains("null ") && lines[0].contains("pts "), "{out}");
        // The second /dev's nodes are the host's devices; the second procfs has its /sys
        // read-only, as the first.
        assert_eq!(&lines[2..], ["dev2-null", "proc2-self", "sys ro,"], "{out}");

        let bare = w.write("bare.toml", "home = \"keep\"\nrules = [ { ro = \"/\" } ]\n");
        let o = w.run_in_sandbox(&["--policy", bare.to_str().unwrap()],
                                 &["/bin/sh", "-c", "ls /dev | wc -l"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let host = std::fs::read_dir("/dev").unwrap().count();
        assert_eq!(stdout(&o).trim(), host.to_string(), "{}", describe(&o));
    }
}

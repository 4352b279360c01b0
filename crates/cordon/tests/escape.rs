//! The escape suite: a static and a dynamic probe try every route to a hidden file and a
//! hidden directory, on every backend that claims enforcement. Each route is first shown to
//! reach the target without cordon.

use cordon_testutil::{
    as_each_backend, as_each_user, describe, is_root, output, stderr, stdout, User, World,
};

/// route name -> (outcome, errno)
fn routes(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("route "))
        .map(|l| {
            let mut it = l.splitn(2, ' ');
            (
                it.next().unwrap_or_default().to_string(),
                it.next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// What a backend does not claim to stop on `route` for the probe `bin`: "EXISTS" (it may
/// learn that the target exists), "REACHED" (it may read it), or None (it claims the route).
fn unclaimed(w: &World, bin: &str, route: &str) -> Option<&'static str> {
    let backend = w.backend().unwrap_or("namespace");
    match backend {
        // Landlock does not mediate stat, access, O_PATH or a refused exec.
        "landlock" => Some("EXISTS"),
        // The shim is not in a static binary, and does not see raw system calls.
        "preload" if bin == "escape-static" => Some("REACHED"),
        "preload" if ["openat2", "raw-open", "statx", "faccessat2"].contains(&route) => {
            Some("REACHED")
        }
        _ => None,
    }
}

fn check(w: &World, target: &str, rules: &[&str]) {
    let writable = w.mkdir("work/scratch");
    let writable = writable.to_str().unwrap();
    for bin in ["escape-static", "escape-dyn"] {
        // Natively every route that the kernel supports reaches the target. A non-root user
        // cannot bind-mount outside a namespace of its own.
        let native = output({
            let mut c = w.command(w.bin(bin));
            c.args([target, writable]);
            c
        });
        let native_routes = routes(&stdout(&native));
        assert!(native_routes.len() >= 19, "{}", describe(&native));
        for (route, outcome) in &native_routes {
            let privileged_only = route == "bind-mount" && !(is_root() && w.user() == User::Root);
            assert!(
                outcome == "REACHED"
                    || outcome == "EXISTS"
                    || outcome.starts_with("unsupported")
                    || privileged_only,
                "{bin}: route {route} does not reach the target natively ({outcome}): {}",
                describe(&native)
            );
        }

        let mut args: Vec<&str> = rules.to_vec();
        args.push("--rw");
        args.push(writable);
        let bin_path = w.bin(bin);
        // Both ways of hiding an entry of a read-only directory: an overlay with a whiteout,
        // and (kernels without overlayfs in user namespaces) a tmpfs with a bind per entry.
        let mirrors: &[&str] = if w.backend() == Some("namespace") {
            &["overlay", "binds"]
        } else {
            &["overlay"]
        };
        for mirror in mirrors {
            let o = w.run_in_sandbox_env(
                &args,
                &[bin_path.to_str().unwrap(), target, writable],
                &[("CORDON_MIRROR", mirror)],
            );
            let sandboxed = routes(&stdout(&o));
            assert_eq!(sandboxed.len(), native_routes.len(), "{}", describe(&o));
            for (route, outcome) in &sandboxed {
                let allowed = match unclaimed(w, bin, route) {
                    None => !outcome.starts_with("REACHED") && !outcome.starts_with("EXISTS"),
                    Some("EXISTS") => !outcome.starts_with("REACHED"),
                    Some(_) => true,
                };
                assert!(
                    allowed,
                    "{bin}: route {route} got at the hidden {target}: {}",
                    describe(&o)
                );
            }
            if w.backend() == Some("preload") && bin == "escape-static" {
                // Not followed, but never silently: the run names the static program.
                assert!(
                    stderr(&o).contains("preload gap, outside the view: static executable")
                        && stderr(&o).contains(bin),
                    "{}",
                    describe(&o)
                );
                continue;
            }
            if !w.hides() {
                // Landlock: the target is unreadable, yet stat still sees it exist.
                let stat = sandboxed.iter().find(|(r, _)| r == "stat").unwrap();
                assert_eq!(stat.1, "EXISTS", "{bin}: {}", describe(&o));
                assert_eq!(o.status.code(), Some(1), "{bin}: {}", describe(&o));
                continue;
            }
            let claimed_all = sandboxed
                .iter()
                .all(|(route, _)| unclaimed(w, bin, route).is_none());
            if claimed_all {
                assert_eq!(o.status.code(), Some(0), "{bin}: {}", describe(&o));
            }
        }
    }
}

as_each_backend! {
    /// A hidden file in a visible directory stays absent by every route.
    fn hidden_file(w) {
        let secret = w.script("data/vis/secret", "#!/bin/sh\necho leaked\n");
        w.write("data/vis/visible", "v\n");
        w.crowd("data/vis");
        let data = w.path("data");
        check(w, secret.to_str().unwrap(),
              &["--ro", data.to_str().unwrap(), "--hide", secret.to_str().unwrap()]);
    }
}

as_each_backend! {
    /// A hidden directory stays absent by every route.
    fn hidden_directory(w) {
        w.write("data/secretdir/inner", "s\n");
        w.write("data/visible", "v\n");
        w.crowd("data");
        let dir = w.path("data/secretdir");
        let data = w.path("data");
        check(w, dir.to_str().unwrap(),
              &["--ro", data.to_str().unwrap(), "--hide", dir.to_str().unwrap()]);
    }
}

as_each_backend! {
    /// The home directory's real content stays out of reach behind the fresh home, by every
    /// route.
    fn real_home_behind_fresh_home(w) {
        let secret = w.write("home/.gitconfig", "[user]\n\tname = Real\n");
        check(w, secret.to_str().unwrap(), &[]);
    }
}

as_each_user! {
    /// The command holds no capability in the sandbox's user namespace, and nothing it executes
    /// gets one back: the shell below executes grep as uid 0 when cordon runs as root, which
    /// would give grep every capability of the bounding set.
    fn command_holds_no_capability(w) {
        let o = w.run_in_sandbox(
            &[],
            &["sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status"],
        );
        let out = stdout(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{}", describe(&o));
        for line in lines {
            assert!(line.ends_with("\t0000000000000000"), "{line}: {}", describe(&o));
        }
    }
}

as_each_backend! {
    /// What acts on the whole machine stays out of reach: a global sysctl and the kernel log.
    /// uid 0 without capabilities may write both (their file mode is the only check), so each
    /// works natively as root; the sysctl gets its own value back, the log a debug line.
    fn host_sysctls_and_kernel_log_stay_out_of_reach(w) {
        let script = "f=/proc/sys/vm/overcommit_ratio; v=$(cat $f) && \
                      { echo \"$v\" > $f && echo WROTE sysctl || echo REFUSED sysctl; }; \
                      { echo '<7>cordon test' > /dev/kmsg && echo WROTE kmsg || echo REFUSED kmsg; } \
                      2>/dev/null; \
                      for p in sys sysrq-trigger irq bus; do \
                        [ -e /proc/$p ] && echo exists /proc/$p; done; \
                      cut -d' ' -f5,6 /proc/self/mountinfo";
        let native = output({
            let mut c = w.command("sh");
            c.args(["-c", script]);
            c
        });
        let as_root = is_root() && w.user() == User::Root;
        for what in ["sysctl", "kmsg"] {
            assert_eq!(
                stdout(&native).contains(&format!("WROTE {what}")),
                as_root,
                "{}",
                describe(&native)
            );
        }
        let o = w.run_in_sandbox(&[], &["sh", "-c", script]);
        let out = stdout(&o);
        for what in ["sysctl", "kmsg"] {
            assert!(out.contains(&format!("REFUSED {what}")), "{}", describe(&o));
        }
        if w.backend().unwrap_or("namespace") != "namespace" {
            return;
        }
        // The namespace backend's own procfs: those of these this kernel has (no
        // sysrq-trigger without magic SysRq) are read-only mounts.
        let present: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("exists ")).collect();
        assert!(present.contains(&"/proc/sys"), "{}", describe(&o));
        for path in present {
            let line = out.lines().find(|l| l.starts_with(&format!("{path} ")));
            assert!(
                line.is_some_and(|l| l.split(' ').nth(1).unwrap_or("").starts_with("ro")),
                "{path} is not a read-only mount: {}",
                describe(&o)
            );
        }
    }
}

//! Policy files on the command line: good ones apply, bad ones fail with status 125 and a
//! message naming the file, the line and the problem, without a panic.

use cordon_testutil::{as_each_user, describe, stderr, stdout, World};

fn run_policy(w: &World, name: &str, text: &str) -> std::process::Output {
    let file = w.write(name, text);
    w.run_in_sandbox(
        &["--policy", file.to_str().unwrap()],
        &["/bin/sh", "-c", "echo ran"],
    )
}

fn assert_rejected(w: &World, name: &str, text: &str, line: usize, words: &[&str]) {
    let o = run_policy(w, name, text);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
    assert!(
        !stdout(&o).contains("ran"),
        "the command ran: {}",
        describe(&o)
    );
    assert!(!err.contains("panicked"), "{err}");
    let located = format!("{}:{line}", w.path(name).display());
    assert!(err.contains(&located), "expected `{located}` in: {err}");
    for word in words {
        assert!(err.contains(word), "expected `{word}` in: {err}");
    }
}

as_each_user! {
    fn bad_policy_files(w) {
        assert_rejected(w, "syntax.toml", "extends = [\"build\"]\n\nrules = [ { ro = \"/usr\" \n",
                        3, &[]);
        assert_rejected(w, "unknown-key.toml", "extends = [\"build\"]\nnetwork = true\n\nrw_paths = []\n",
                        4, &["rw_paths"]);
        assert_rejected(w, "relative.toml",
                        "extends = [\"build\"]\nrules = [\n  { ro = \"/usr\" },\n  { rw = \"build/out\" },\n]\n",
                        4, &["relative", "absolute"]);
        assert_rejected(w, "two-kinds.toml", "rules = [\n  { ro = \"/usr\", hide = \"/etc\" },\n]\n",
                        2, &["exactly one"]);
        assert_rejected(w, "bad-class.toml", "rules = [ { ro = \"/usr\", class = \"trusted\" } ]\n",
                        1, &["trusted"]);
        assert_rejected(w, "bad-profile.toml", "extends = [\"build\", \"nosuch\"]\n",
                        1, &["nosuch", "build, git"]);
        assert_rejected(w, "bad-var.toml", "rules = [ { hide = \"${NOPE}/x\" } ]\n",
                        1, &["${NOPE}"]);
        assert_rejected(w, "bad-home.toml", "home = \"somewhere\"\n", 1, &["fresh"]);
        // A cycle through files, spelled with `..`.
        w.write("cyc/a.toml", "extends = [\"../cyc/b.toml\"]\n");
        let b = w.write("cyc/b.toml", "extends = [\"a.toml\"]\n");
        let o = w.run_in_sandbox(&["--policy", b.to_str().unwrap()], &["true"]);
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(stderr(&o).contains("cycle"), "{}", describe(&o));
        // A missing file.
        let o = w.run_in_sandbox(&["--policy", "/no/such/policy.toml"], &["true"]);
        assert_eq!(o.status.code(), Some(125));
        assert!(stderr(&o).contains("/no/such/policy.toml"), "{}", describe(&o));
        // Garbage bytes.
        let garbage = w.path("garbage.toml");
        std::fs::write(&garbage, [0xff, 0xfe, 0x00, 0x41, 0x0a]).unwrap();
        let o = w.run_in_sandbox(&["--policy", garbage.to_str().unwrap()], &["true"]);
        assert_eq!(o.status.code(), Some(125), "{}", describe(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

as_each_user! {
    /// A policy file that extends the build profile and adds its own rules and variables.
    fn policy_file_applies(w) {
        if !cordon_testutil::require(std::path::Path::new("/usr/include/zlib.h").exists(),
                                     "zlib1g-dev is not installed") {
            return;
        }
        w.write("deps/zlib/include/zlib.h", "/* declared zlib */\n");
        let deps = w.path("deps");
        let text = format!(
            "# a package manager's policy\nextends = [\"build\"]\n\
             rules = [\n  {{ ro = \"{d}\", class = \"declared\", why = \"dependencies\" }},\n  \
             {{ hide = \"/usr/include/zlib.h\" }},\n]\n\
             [env]\nset = {{ CPATH = \"{d}/zlib/include\" }}\nunset = [\"LANG\"]\n",
            d = deps.display());
        let o = run_policy(w, "policy.toml", &text);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let file = w.write("p2.toml", &text);
        let o = w.run_in_sandbox(&["--policy", file.to_str().unwrap()],
            &["/bin/sh", "-c",
              "echo CPATH=$CPATH LANG=${LANG:-none}; cat $CPATH/zlib.h; \
               test -e /usr/include/zlib.h && echo system-zlib-visible; \
               test -e /usr/include/stdio.h && echo stdio-visible"]);
        let out = stdout(&o);
        assert!(out.contains(&format!("CPATH={}/zlib/include LANG=none", deps.display())), "{out}");
        assert!(out.contains("declared zlib"), "{out}");
        assert!(!out.contains("system-zlib-visible"), "{out}");
        assert!(out.contains("stdio-visible"), "{out}");
    }
}

//! `cordon bisect`: among twenty dotfiles a build reads, one poisons it, and so does a
//! variable; bisect finds both in a number of runs logarithmic in the candidates and prints
//! the rules that fix it. As root and as uid 65534.

use cordon_testutil::{as_each_user, describe, output, stdout};

as_each_user! {
    fn finds_the_poisoned_file_and_variable(w) {
        finds(w);
    }
}

as_each_user! {
    /// The same on a machine without user namespaces.
    fn finds_the_poisoned_file_and_variable_without_user_namespaces(w) {
        w.without_user_namespaces();
        finds(w);
    }
}

fn finds(w: &cordon_testutil::World) {
    {
        for i in 0..20 {
            w.write(&format!("home/.tool{i:02}rc"), "setting = ordinary\n");
        }
        w.write("home/.tool13rc", "setting = POISON\n");
        w.script("work/build.sh",
            "#!/bin/sh\nbad=0\nfor f in \"$HOME\"/.tool*rc; do\n  grep -q POISON \"$f\" && bad=1\ndone\n\
             [ $bad = 1 ] && exit 3\n[ -n \"$PIP_INDEX_URL\" ] && exit 4\necho built > out.txt\n");
        let mut c = w.cordon(["bisect", "--", "./build.sh"]);
        c.env("PIP_INDEX_URL", "http://poison.invalid");
        let o = output(c);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let out = stdout(&o);
        let rules: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rules.len(), 2, "{out}");
        assert!(
            rules
                .iter()
                .any(|r| r.starts_with(&format!("hide {}/.tool13rc", w.home().display()))),
            "{out}"
        );
        assert!(rules.contains(&"env unset PIP_INDEX_URL"), "{out}");
        // "# 2 of 21 candidates fix it (N runs):": all twenty dotfiles and the variable were
        // candidates, and the runs are logarithmic, not one per candidate.
        let header = out.lines().next().unwrap();
        assert!(header.starts_with("# 2 of 21 candidates"), "{header}");
        let runs: usize = header
            .split('(')
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{header}"));
        assert!(runs < 21, "{runs} runs for 21 candidates: {header}");
    }
}

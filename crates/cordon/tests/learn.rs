//! `cordon learn`: trace a build in a copy, write the policy it needs, verify it in a fresh
//! copy under that policy alone. As root and as uid 65534.

use cordon_testutil::{as_each_user, describe, output, stderr, World};

fn project(w: &World) {
    w.write(
        "work/hello.c",
        "#include <stdio.h>\nint main(void){puts(\"hi\");return 0;}\n",
    );
    w.write(
        "work/Makefile",
        "hello: hello.c\n\tcc -O1 -o hello hello.c\n\t./hello > out.txt\n",
    );
}

as_each_user! {
    fn learns_a_small_build(w) {
        learns(w);
    }
}

as_each_user! {
    /// The same on a machine without user namespaces: the verifying run and the final run
    /// fall back to a backend that needs none.
    fn learns_a_small_build_without_user_namespaces(w) {
        w.without_user_namespaces();
        learns(w);
    }
}

fn learns(w: &World) {
    {
        project(w);
        let policy = w.mkdir("out").join("policy.toml");
        let mut c = w.cordon(["learn", "-o", policy.to_str().unwrap(), "--", "make", "-s"]);
        c.env("CFLAGS", "-O2");
        let o = output(c);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert!(stderr(&o).contains("left the same"), "{}", describe(&o));
        let text = std::fs::read_to_string(&policy).unwrap();
        let rules = text
            .lines()
            .filter(|l| l.trim_start().starts_with("{ "))
            .count();
        assert!((3..=30).contains(&rules), "{rules} rules:\n{text}");
        assert!(!text.contains("ro = \"/\""), "a blanket / rule:\n{text}");
        assert!(
            text.contains("# Verification: re-run in a fresh copy"),
            "{text}"
        );
        // The variables that steer the build are named.
        assert!(text.contains("#   CFLAGS=-O2"), "{text}");
        // The work tree itself was not touched: learn works on copies.
        assert!(!w.path("work/hello").exists());
        // The policy alone runs the build.
        let o = w.run_in_sandbox(&["--policy", policy.to_str().unwrap()], &["make", "-s"]);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        assert_eq!(
            std::fs::read_to_string(w.path("work/out.txt")).unwrap(),
            "hi\n"
        );
    }
}

as_each_user! {
    /// A build that needs a breach (a user config file) gets a policy without it, and the
    /// verification says that the run differed.
    fn a_needed_breach_is_left_out_and_verification_says_so(w) {
        project(w);
        let rc = w.write("home/.buildrc", "FLAGS=-O1\n");
        w.write("work/Makefile",
            &format!("hello: hello.c\n\tcat {} > flags.txt\n\tcc -o hello hello.c\n", rc.display()));
        let policy = w.mkdir("out").join("policy.toml");
        let o = output(w.cordon(["learn", "-o", policy.to_str().unwrap(), "--", "make", "-s"]));
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        assert!(stderr(&o).contains("DIFFERED"), "{}", describe(&o));
        let text = std::fs::read_to_string(&policy).unwrap();
        assert!(text.contains(&format!("#   {}  (user-config", rc.display())), "{text}");
    }
}

as_each_user! {
    /// A program whose loader only the kernel opens (no traced call shows it) still runs under
    /// the learned policy: learn adds each executed program's interpreter.
    fn the_kernels_own_opens_are_learned(w) {
        w.script("work/run.sh", "#!/bin/sh\ntrue\n");
        let policy = w.mkdir("out").join("policy.toml");
        let o = output(w.cordon(["learn", "-o", policy.to_str().unwrap(), "--", "./run.sh"]));
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        let text = std::fs::read_to_string(&policy).unwrap();
        assert!(text.contains("ld-linux") || text.contains("/lib64") || text.contains("/lib\""),
                "{text}");
    }
}

//! `cordon_core::plan::compile` over fixtures in a temporary directory.

use std::ffi::{CString, OsStr, OsString};
use std::path::{Path, PathBuf};

use cordon_core::plan::{
    compile, compile_with_mount_table, exec_candidates, Context, Mirrors, Plan, PlanError,
};
use cordon_core::policy::{Home, Loader, Origin, Policy, RuleKind, Vars};
use cordon_core::sys::sandbox::{IdMap, MountOp};

const NEWROOT: &str = "/newroot";

fn ctx(cwd: &Path) -> Context {
    Context {
        cwd: cwd.to_path_buf(),
        home: None,
        argv: vec!["true".into()],
        envp: vec![("PATH".into(), "/usr/bin:/bin".into())],
        root: false,
        mirrors: Mirrors::Binds,
    }
}

fn policy(rules: &[(&Path, RuleKind)]) -> Policy {
    let mut p = Policy::default();
    for (path, kind) in rules {
        p.push_rule(
            path.to_str().unwrap(),
            kind.clone(),
            None,
            None,
            Origin::command_line(),
        )
        .unwrap();
    }
    p
}

/// The plan with mirrors built from binds (a tmpfs and one bind per entry), the form that
/// every kernel with user namespaces can run and that the mirror tests check;
/// `overlay_layers_match_the_bind_mirror` checks the overlay form.
fn plan(rules: &[(&Path, RuleKind)], cwd: &Path) -> Plan {
    compile(&policy(rules), &ctx(cwd)).unwrap_or_else(|e| panic!("compile: {e}"))
}

#[test]
fn overlay_layers_match_the_bind_mirror() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["vis/sub"]);
    files(&tmp, &["vis/secret", "vis/ok"]);
    // Enough entries that an overlay is cheaper than a bind per entry.
    let fillers: Vec<String> = (0..10).map(|i| format!("vis/filler{i}")).collect();
    files(
        &tmp,
        &fillers.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let (secret, deeper) = (tmp.join("vis/secret"), tmp.join("vis/new/deeper"));
    let rules = [
        (tmp.as_path(), RuleKind::Ro),
        (secret.as_path(), RuleKind::Hide),
        (deeper.as_path(), RuleKind::Tmpfs),
    ];
    let overlay_ctx = Context {
        mirrors: Mirrors::Overlay,
        ..ctx(&tmp)
    };
    let p = compile(&policy(&rules), &overlay_ctx).unwrap();
    let (whiteouts, dirs, options) = p
        .spec
        .ops
        .iter()
        .find_map(|op| match op {
            MountOp::Overlay {
                dst,
                whiteouts,
                dirs,
                options,
                ..
            } if s(dst) == nr(&tmp.join("vis")) => Some((whiteouts, dirs, options)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no overlay on vis:\n{}", dump(&p.spec.ops)));
    // One whiteout, for the hidden entry; the missing path is made whole in the layer.
    assert_eq!(whiteouts.len(), 1);
    assert!(s(&whiteouts[0]).ends_with("/secret"));
    assert!(
        dirs.iter().any(|d| s(d).ends_with("/new/deeper")),
        "{dirs:?}"
    );
    let lower = format!("/oldroot{}", tmp.join("vis").display());
    assert!(
        s(options).starts_with("lowerdir=/.cordon/layers/"),
        "{options:?}"
    );
    assert!(s(options).ends_with(&format!(":{lower}")), "{options:?}");
    // The bind mirror of the same policy shows the same entries.
    let binds = plan(&rules, &tmp).spec.ops;
    assert!(binds.iter().any(|op| is_tmpfs(op, &nr(&tmp.join("vis")))));
    assert!(!binds.iter().any(|op| format!("{op:?}").contains("secret")));
    assert!(binds
        .iter()
        .any(|op| is_bind_to(op, &nr(&tmp.join("vis/ok")))));
    assert!(!binds.iter().any(|op| matches!(op, MountOp::Overlay { .. })));
}

/// The mount table given to the plan (as the sandbox's init reads it) is the one it uses:
/// a mount point under an overlaid directory is bound on top of the overlay, and only when
/// the table has it. The point's name has a space, which mountinfo escapes.
#[test]
fn a_given_mount_table_decides_the_binds_over_an_overlay() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["vis/m nt"]);
    let fillers: Vec<String> = (0..10).map(|i| format!("vis/filler{i}")).collect();
    files(
        &tmp,
        &fillers.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    files(&tmp, &["vis/secret"]);
    let secret = tmp.join("vis/secret");
    let rules = [
        (tmp.as_path(), RuleKind::Ro),
        (secret.as_path(), RuleKind::Hide),
    ];
    let overlay_ctx = Context {
        mirrors: Mirrors::Overlay,
        ..ctx(&tmp)
    };
    let point = tmp.join("vis/m nt");
    let escaped = point.to_str().unwrap().replace(' ', "\\040");
    let table =
        format!("1 0 0:1 / / rw - ext4 /dev/root rw\n36 1 0:32 / {escaped} rw - tmpfs x rw\n");
    let binds_on_point = |p: &Plan| {
        p.spec
            .ops
            .iter()
            .filter_map(|op| match op {
                MountOp::Overlay { dst, then, .. } if s(dst) == nr(&tmp.join("vis")) => Some(then),
                _ => None,
            })
            .flatten()
            .filter(|op| is_bind_to(op, &nr(&point)))
            .count()
    };
    let given = compile_with_mount_table(&policy(&rules), &overlay_ctx, Some(table.as_bytes()))
        .unwrap_or_else(|e| panic!("compile: {e}"));
    assert_eq!(binds_on_point(&given), 1, "{}", dump(&given.spec.ops));
    // This machine's own table has no mount there.
    let read = compile(&policy(&rules), &overlay_ctx).unwrap();
    assert!(read
        .spec
        .ops
        .iter()
        .any(|op| matches!(op, MountOp::Overlay { .. })));
    assert_eq!(binds_on_point(&read), 0, "{}", dump(&read.spec.ops));
}

/// A canonical temporary directory (under /tmp when `in_tmp`), so that paths in the plan
/// match the ones the test writes.
fn fixture_dir(in_tmp: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = if in_tmp {
        tempfile::Builder::new().tempdir_in("/tmp").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let path = dir.path().canonicalize().unwrap();
    (dir, path)
}

fn mkdirs(root: &Path, dirs: &[&str]) {
    for d in dirs {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
}

fn files(root: &Path, files: &[&str]) {
    for f in files {
        std::fs::write(root.join(f), b"x").unwrap();
    }
}

/// The destination of `p` under the new root, as the plan writes it.
fn nr(p: &Path) -> String {
    if p == Path::new("/") {
        NEWROOT.to_string()
    } else {
        format!("{NEWROOT}{}", p.display())
    }
}

fn s(c: &CString) -> String {
    c.to_str().unwrap().to_string()
}

fn is_tmpfs(op: &MountOp, dst: &str) -> bool {
    matches!(op, MountOp::Tmpfs { dst: d, .. } if s(d) == dst)
}

fn is_bind_to(op: &MountOp, dst: &str) -> bool {
    matches!(op, MountOp::Bind { dst: d, .. } if s(d) == dst)
}

fn is_mkdir(op: &MountOp, path: &str) -> bool {
    matches!(op, MountOp::Mkdir { path: p } if s(p) == path)
}

fn is_ro_remount(op: &MountOp, dst: &str) -> bool {
    matches!(op, MountOp::RemountReadonly { dst: d } if s(d) == dst)
}

fn position(ops: &[MountOp], what: impl Fn(&MountOp) -> bool) -> Option<usize> {
    ops.iter().position(what)
}

fn dump(ops: &[MountOp]) -> String {
    ops.iter()
        .map(|op| format!("  {op:?}\n"))
        .collect::<String>()
}

/// Where a mount op puts something (None for ops that mount nothing).
fn mount_dst(op: &MountOp) -> Option<String> {
    match op {
        MountOp::Bind { dst, .. }
        | MountOp::Tmpfs { dst, .. }
        | MountOp::Proc { dst }
        | MountOp::Dev { dst } => Some(s(dst)),
        _ => None,
    }
}

/// Every Mkdir/Touch/Symlink under the new root is made on a tmpfs of ours (the staging root,
/// or a Tmpfs or Dev op), never inside a host bind: there it would fail (read-only) or change the
/// host (read-write).
fn assert_nothing_created_in_host_binds(ops: &[MountOp]) {
    for (i, op) in ops.iter().enumerate() {
        let path = match op {
            MountOp::Mkdir { path } | MountOp::Touch { path, .. } => s(path),
            MountOp::Symlink { path, .. } => s(path),
            _ => continue,
        };
        let Some(rel) = path.strip_prefix(NEWROOT) else {
            continue; // the staging area (/.cordon)
        };
        let parent = Path::new(NEWROOT).join(
            Path::new(if rel.is_empty() { "/" } else { rel })
                .parent()
                .unwrap_or(Path::new("/"))
                .strip_prefix("/")
                .unwrap(),
        );
        // The mount that holds `parent` at this point: the deepest, then the latest.
        let holder = ops[..i]
            .iter()
            .enumerate()
            .filter_map(|(j, o)| mount_dst(o).map(|d| (j, d, o)))
            .filter(|(_, d, _)| parent.starts_with(d))
            .max_by_key(|(j, d, _)| (Path::new(d).components().count(), *j));
        if let Some((_, _, holder)) = holder {
            assert!(
                matches!(holder, MountOp::Tmpfs { .. } | MountOp::Dev { .. }),
                "op {i} {op:?} is made inside {holder:?}\nops:\n{}",
                dump(ops)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (a) hide inside a read-only directory: mirror

#[test]
fn hide_in_a_ro_dir_mirrors_its_parent() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["vis/sub", "other"]);
    files(&tmp, &["vis/secret", "vis/a.txt", "vis/b.txt", "top.txt"]);
    std::os::unix::fs::symlink("a.txt", tmp.join("vis/link")).unwrap();

    let p = plan(
        &[
            (&tmp, RuleKind::Ro),
            (&tmp.join("vis/secret"), RuleKind::Hide),
        ],
        &tmp,
    );
    let ops = &p.spec.ops;
    let vis = nr(&tmp.join("vis"));

    // The whole directory is bound read-only first.
    let root_bind = position(ops, |op| is_bind_to(op, &nr(&tmp))).expect("bind of the dir");
    assert!(matches!(
        &ops[root_bind],
        MountOp::Bind {
            readonly: true,
            recursive: true,
            ..
        }
    ));

    // Its `vis` is replaced by a tmpfs.
    let mirror = position(ops, |op| is_tmpfs(op, &vis))
        .unwrap_or_else(|| panic!("no tmpfs on {vis}:\n{}", dump(ops)));
    assert!(root_bind < mirror);
    assert!(matches!(&ops[mirror], MountOp::Tmpfs { dst, .. } if s(dst).ends_with("/vis")));

    // Holding a read-only bind of each sibling, after the tmpfs.
    for (name, dir) in [("a.txt", false), ("b.txt", false), ("sub", true)] {
        let dst = format!("{vis}/{name}");
        let i = position(ops, |op| is_bind_to(op, &dst))
            .unwrap_or_else(|| panic!("no bind on {dst}:\n{}", dump(ops)));
        assert!(i > mirror, "{dst} bound before the mirror");
        match &ops[i] {
            MountOp::Bind {
                src,
                readonly,
                recursive,
                ..
            } => {
                assert_eq!(s(src), format!("/oldroot{}/vis/{name}", tmp.display()));
                assert!(*readonly, "{dst}");
                assert_eq!(*recursive, dir, "{dst}");
            }
            op => unreachable!("{op:?}"),
        }
        // Its mount point, made on the mirror's tmpfs.
        let point = position(ops, |op| match op {
            MountOp::Mkdir { path } | MountOp::Touch { path, .. } => s(path) == dst,
            _ => false,
        })
        .unwrap_or_else(|| panic!("no mount point for {dst}"));
        assert!(mirror < point && point < i);
        if !dir {
            assert!(matches!(&ops[point], MountOp::Touch { .. }), "{dst}");
        }
    }
    // A symlink is recreated, not bound.
    assert!(
        ops.iter().any(|op| matches!(op,
            MountOp::Symlink { target, path }
                if s(target) == "a.txt" && s(path) == format!("{vis}/link"))),
        "{}",
        dump(ops)
    );

    // Nothing about the secret at all.
    for op in ops {
        assert!(!format!("{op:?}").contains("secret"), "{op:?}");
    }
    // Nothing else is mirrored.
    assert!(!ops.iter().any(|op| is_tmpfs(op, &nr(&tmp))));
    assert!(!ops.iter().any(|op| is_tmpfs(op, &nr(&tmp.join("other")))));

    // The mirror is made read-only once filled, and the staging root too.
    let ro = position(ops, |op| is_ro_remount(op, &vis))
        .unwrap_or_else(|| panic!("no read-only remount of {vis}:\n{}", dump(ops)));
    assert!(ops[ro..]
        .iter()
        .all(|op| matches!(op, MountOp::RemountReadonly { .. })));
    assert!(ops.iter().any(|op| is_ro_remount(op, NEWROOT)));
    assert_nothing_created_in_host_binds(ops);
}

#[test]
fn hide_in_a_rw_dir_is_unreadable_and_keeps_the_dir_whole() {
    // A mirror of a writable directory would keep new files in memory only: the entry is
    // covered by the unreadable file instead, and the directory stays one writable bind.
    let (_d, tmp) = fixture_dir(false);
    files(&tmp, &["secret", "a.txt"]);
    let p = plan(
        &[(&tmp, RuleKind::Rw), (&tmp.join("secret"), RuleKind::Hide)],
        &tmp,
    );
    let ops = &p.spec.ops;
    assert!(
        !ops.iter().any(|op| is_tmpfs(op, &nr(&tmp))),
        "{}",
        dump(ops)
    );
    assert!(ops.iter().any(|op| matches!(op,
        MountOp::Bind { dst, readonly: false, .. } if s(dst) == nr(&tmp))));
    let secret = nr(&tmp.join("secret"));
    assert!(
        ops.iter().any(|op| matches!(op,
            MountOp::Bind { src, dst, readonly: true, .. }
                if s(dst) == secret && s(src) == "/.cordon/deny")),
        "{}",
        dump(ops)
    );
    assert!(
        p.notes.iter().any(|n| n.contains("EACCES")),
        "{:?}",
        p.notes
    );
    assert_nothing_created_in_host_binds(ops);
}

// ---------------------------------------------------------------------------------------------
// (b) parents before children

#[test]
fn tmpfs_comes_before_the_cwd_bind_inside_it() {
    let (_d, cwd) = fixture_dir(true);
    assert!(cwd.starts_with("/tmp"), "{}", cwd.display());
    files(&cwd, &["main.c"]);
    let p = plan(
        &[
            (Path::new("/"), RuleKind::Ro),
            (Path::new("/tmp"), RuleKind::Tmpfs),
            (&cwd, RuleKind::Rw),
        ],
        &cwd,
    );
    let ops = &p.spec.ops;
    let root = position(ops, |op| is_bind_to(op, NEWROOT)).expect("bind of /");
    let tmp = position(ops, |op| is_tmpfs(op, "/newroot/tmp")).expect("tmpfs on /tmp");
    let point = position(ops, |op| is_mkdir(op, &nr(&cwd))).expect("mount point for cwd");
    let bind = position(ops, |op| is_bind_to(op, &nr(&cwd))).expect("bind of cwd");
    assert!(root < tmp && tmp < point && point < bind, "{}", dump(ops));
    assert!(matches!(
        &ops[bind],
        MountOp::Bind {
            readonly: false,
            ..
        }
    ));
    assert!(matches!(&ops[root], MountOp::Bind { readonly: true, .. }));
    // `/` is bound from the host, so the staging root is not remounted.
    assert!(!ops.iter().any(|op| is_ro_remount(op, NEWROOT)));
    assert_eq!(s(&p.spec.cwd), cwd.to_str().unwrap());
    assert_nothing_created_in_host_binds(ops);
}

#[test]
fn order_does_not_depend_on_rule_order() {
    let (_d, cwd) = fixture_dir(true);
    let p = plan(
        &[
            (&cwd, RuleKind::Rw),
            (Path::new("/tmp"), RuleKind::Tmpfs),
            (Path::new("/"), RuleKind::Ro),
        ],
        &cwd,
    );
    let ops = &p.spec.ops;
    let root = position(ops, |op| is_bind_to(op, NEWROOT)).unwrap();
    let tmp = position(ops, |op| is_tmpfs(op, "/newroot/tmp")).unwrap();
    let bind = position(ops, |op| is_bind_to(op, &nr(&cwd))).unwrap();
    assert!(root < tmp && tmp < bind, "{}", dump(ops));
}

#[test]
fn later_rule_for_the_same_path_wins() {
    let (_d, tmp) = fixture_dir(false);
    let p = plan(&[(&tmp, RuleKind::Rw), (&tmp, RuleKind::Tmpfs)], &tmp);
    let ops = &p.spec.ops;
    assert!(ops.iter().any(|op| is_tmpfs(op, &nr(&tmp))));
    assert!(
        !ops.iter().any(|op| is_bind_to(op, &nr(&tmp))),
        "{}",
        dump(ops)
    );
}

#[test]
fn fresh_home_is_a_tmpfs_over_the_real_home() {
    let (_d, tmp) = fixture_dir(false);
    let home = tmp.join("home");
    mkdirs(&home, &[".ssh"]);
    let mut pol = policy(&[(&tmp, RuleKind::Ro)]);
    pol.home = Home::Fresh;
    let mut c = ctx(&tmp);
    c.home = Some(home.clone());
    let ops = compile(&pol, &c).unwrap().spec.ops;
    assert!(
        ops.iter().any(|op| is_tmpfs(op, &nr(&home))),
        "{}",
        dump(&ops)
    );
    assert!(!ops.iter().any(|op| format!("{op:?}").contains(".ssh")));
}

#[test]
fn explicit_rule_for_the_home_path_wins_over_fresh_home() {
    // Running from $HOME itself (`rw ${CWD}`) keeps the real directory.
    let (_d, tmp) = fixture_dir(false);
    let home = tmp.join("home");
    mkdirs(&home, &[".ssh"]);
    let mut pol = policy(&[(&tmp, RuleKind::Ro), (&home, RuleKind::Rw)]);
    pol.home = Home::Fresh;
    let mut c = ctx(&tmp);
    c.home = Some(home.clone());
    let ops = compile(&pol, &c).unwrap().spec.ops;
    assert!(
        ops.iter().any(|op| is_bind_to(op, &nr(&home))),
        "{}",
        dump(&ops)
    );
    assert!(
        !ops.iter().any(|op| is_tmpfs(op, &nr(&home))),
        "{}",
        dump(&ops)
    );
}

#[test]
fn hides_in_a_fresh_home_change_nothing_and_still_count_for_the_trace() {
    let (_d, tmp) = fixture_dir(false);
    let home = tmp.join("home");
    mkdirs(&home, &[".ssh", ".config/git"]);
    files(&home, &[".gitconfig"]);
    let (ssh, git, gitconfig, netrc) = (
        home.join(".ssh"),
        home.join(".config/git"),
        home.join(".gitconfig"),
        home.join(".netrc"),
    );
    let rules = [
        (&*tmp, RuleKind::Ro),
        (&*ssh, RuleKind::Hide),
        (&*git, RuleKind::Hide),
        (&*gitconfig, RuleKind::Hide),
        (&*netrc, RuleKind::Hide),
    ];
    let mut pol = policy(&rules);
    pol.home = Home::Fresh;
    let mut c = ctx(&tmp);
    c.home = Some(home.clone());
    let p = compile(&pol, &c).unwrap();
    // The home's tmpfs hides them all: no op names them.
    for h in [&ssh, &git, &gitconfig, &netrc] {
        let name = h.file_name().unwrap().to_str().unwrap();
        assert!(
            !p.spec.ops.iter().any(|op| format!("{op:?}").contains(name)),
            "{name}"
        );
    }
    // An ENOENT at those the host has is the sandbox's doing; at .netrc it is not.
    let mut hidden = p.hidden_paths();
    hidden.sort();
    let mut want = vec![git.clone(), gitconfig.clone(), ssh.clone()];
    want.sort();
    assert_eq!(hidden, want);

    // Run from the home itself (`rw ${CWD}`), the home is the real one: the hides apply.
    let mut pol = policy(&rules);
    pol.push_rule(
        home.to_str().unwrap(),
        RuleKind::Rw,
        None,
        None,
        Origin::command_line(),
    )
    .unwrap();
    pol.home = Home::Fresh;
    let p = compile(&pol, &c).unwrap();
    assert!(p.home_hides.is_empty(), "{:?}", p.home_hides);
    // In a writable directory a hide is unreadable rather than absent (see add_mirrors).
    let mut denied = p.denied.clone();
    denied.sort();
    assert_eq!(denied, want);
}

#[test]
fn a_hide_of_what_the_host_lacks_leaves_an_earlier_rule_for_that_path() {
    let (_d, tmp) = fixture_dir(false);
    let cache = tmp.join("cache");
    let p = plan(
        &[
            (&tmp, RuleKind::Ro),
            (&cache, RuleKind::Tmpfs),
            (&cache, RuleKind::Hide),
        ],
        &tmp,
    );
    assert!(
        p.spec.ops.iter().any(|op| is_tmpfs(op, &nr(&cache))),
        "{}",
        dump(&p.spec.ops)
    );
    assert!(p.hidden_paths().is_empty());
}

// ---------------------------------------------------------------------------------------------
// (c) paths the host lacks

#[test]
fn missing_path_under_a_ro_bind_is_added_to_a_mirror() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["dir"]);
    files(&tmp, &["f.txt"]);
    let deeper = tmp.join("nope/deeper");
    let p = plan(&[(&tmp, RuleKind::Ro), (&deeper, RuleKind::Empty)], &tmp);
    let ops = &p.spec.ops;

    let mirror = position(ops, |op| is_tmpfs(op, &nr(&tmp)))
        .unwrap_or_else(|| panic!("no mirror of {}:\n{}", tmp.display(), dump(ops)));
    // The existing entries are still there.
    for name in ["dir", "f.txt"] {
        let dst = nr(&tmp.join(name));
        let i = position(ops, |op| is_bind_to(op, &dst)).unwrap_or_else(|| panic!("{dst}"));
        assert!(i > mirror);
    }
    // The missing directories are made on the mirror, then `empty` is mounted on them.
    let nope = position(ops, |op| is_mkdir(op, &nr(&tmp.join("nope")))).expect("mkdir nope");
    let point = position(ops, |op| is_mkdir(op, &nr(&deeper))).expect("mkdir deeper");
    let empty = position(ops, |op| is_tmpfs(op, &nr(&deeper))).expect("empty on deeper");
    assert!(
        mirror < nope && nope < point && point < empty,
        "{}",
        dump(ops)
    );
    assert!(ops.iter().any(|op| is_ro_remount(op, &nr(&tmp))));
    assert!(ops.iter().any(|op| is_ro_remount(op, &nr(&deeper))));
    // Deepest first.
    let ro_deeper = position(ops, |op| is_ro_remount(op, &nr(&deeper))).unwrap();
    let ro_tmp = position(ops, |op| is_ro_remount(op, &nr(&tmp))).unwrap();
    assert!(ro_deeper < ro_tmp);
    assert_nothing_created_in_host_binds(ops);
    // Nothing was created on the host.
    assert!(!tmp.join("nope").exists());
}

#[test]
fn missing_path_under_a_nested_bind_mirrors_the_nearest_existing_dir() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["a/b"]);
    let target = tmp.join("a/b/c/d");
    let p = plan(&[(&tmp, RuleKind::Ro), (&target, RuleKind::Tmpfs)], &tmp);
    let ops = &p.spec.ops;
    assert!(
        ops.iter().any(|op| is_tmpfs(op, &nr(&tmp.join("a/b")))),
        "{}",
        dump(ops)
    );
    assert!(
        !ops.iter().any(|op| is_tmpfs(op, &nr(&tmp))),
        "{}",
        dump(ops)
    );
    assert!(
        !ops.iter().any(|op| is_tmpfs(op, &nr(&tmp.join("a")))),
        "{}",
        dump(ops)
    );
    assert!(ops.iter().any(|op| is_tmpfs(op, &nr(&target))));
    assert_nothing_created_in_host_binds(ops);
}

#[test]
fn missing_path_at_the_top_needs_no_mirror() {
    let (_d, tmp) = fixture_dir(false);
    let nowhere = tmp.join("nowhere/x");
    let p = plan(&[(&nowhere, RuleKind::Tmpfs)], &tmp);
    let ops = &p.spec.ops;
    let point = position(ops, |op| is_mkdir(op, &nr(&nowhere))).expect("mkdir");
    let t = position(ops, |op| is_tmpfs(op, &nr(&nowhere))).expect("tmpfs");
    assert!(point < t);
    assert_eq!(
        ops.iter()
            .filter(|op| matches!(op, MountOp::Tmpfs { .. }))
            .count(),
        1,
        "{}",
        dump(ops)
    );
    assert_nothing_created_in_host_binds(ops);
}

#[test]
fn missing_ro_path_is_skipped_with_a_note() {
    let (_d, tmp) = fixture_dir(false);
    let gone = tmp.join("gone");
    let p = plan(&[(&gone, RuleKind::Ro)], &tmp);
    assert!(!p
        .spec
        .ops
        .iter()
        .any(|op| format!("{op:?}").contains("gone")));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("gone") && n.contains("does not exist")),
        "{:?}",
        p.notes
    );
}

/// `deny` of a path the host lacks is skipped by the mirror pass ("nothing to deny"), but
/// `emit` still makes a mount point for it inside the plain host bind: a `Mkdir` in a
/// read-only bind (the sandbox fails to start) or, in a read-write one, a directory created
/// on the host.
#[test]
fn deny_of_a_missing_path_creates_nothing() {
    let (_d, tmp) = fixture_dir(false);
    let nope = tmp.join("nope");
    for kind in [RuleKind::Ro, RuleKind::Rw] {
        let p = plan(&[(&tmp, kind), (&nope, RuleKind::Deny)], &tmp);
        assert_nothing_created_in_host_binds(&p.spec.ops);
    }
}

// ---------------------------------------------------------------------------------------------
// (d) hiding what the host lacks

#[test]
fn hide_of_a_missing_path_needs_no_mirror() {
    let (_d, tmp) = fixture_dir(false);
    files(&tmp, &["a.txt"]);
    let p = plan(
        &[
            (&tmp, RuleKind::Ro),
            (&tmp.join("ghost"), RuleKind::Hide),
            (&tmp.join("nodir/ghost"), RuleKind::Hide),
        ],
        &tmp,
    );
    let ops = &p.spec.ops;
    assert!(
        !ops.iter().any(|op| matches!(op, MountOp::Tmpfs { .. })),
        "{}",
        dump(ops)
    );
    assert!(!ops.iter().any(|op| format!("{op:?}").contains("ghost")));
    assert!(!ops.iter().any(|op| format!("{op:?}").contains("a.txt")));
    let binds: Vec<_> = ops
        .iter()
        .filter(|op| matches!(op, MountOp::Bind { .. }))
        .collect();
    assert_eq!(binds.len(), 1, "{}", dump(ops));
    assert!(is_bind_to(binds[0], &nr(&tmp)));
}

#[test]
fn hide_of_a_dir_holding_a_visible_path_shows_it_empty() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["h/inner", "h/private"]);
    let p = plan(
        &[
            (&tmp, RuleKind::Ro),
            (&tmp.join("h"), RuleKind::Hide),
            (&tmp.join("h/inner"), RuleKind::Ro),
        ],
        &tmp,
    );
    let ops = &p.spec.ops;
    let h = position(ops, |op| is_tmpfs(op, &nr(&tmp.join("h")))).expect("empty h");
    let inner = position(ops, |op| is_bind_to(op, &nr(&tmp.join("h/inner")))).expect("inner");
    assert!(h < inner);
    assert!(!ops.iter().any(|op| format!("{op:?}").contains("private")));
    assert!(p.notes.iter().any(|n| n.contains("hide")), "{:?}", p.notes);
    assert_nothing_created_in_host_binds(ops);
}

// ---------------------------------------------------------------------------------------------
// (e) exec candidates

fn cands(argv0: &str, path: Option<&str>) -> Vec<PathBuf> {
    exec_candidates(OsStr::new(argv0), path.map(OsStr::new))
}

fn pbs(v: &[&str]) -> Vec<PathBuf> {
    v.iter().map(PathBuf::from).collect()
}

#[test]
fn exec_candidates_follow_path_order() {
    assert_eq!(
        cands("cc", Some("/opt/bin:/usr/bin:/bin")),
        pbs(&["/opt/bin/cc", "/usr/bin/cc", "/bin/cc"])
    );
}

#[test]
fn exec_candidates_empty_component_is_the_current_dir() {
    assert_eq!(
        cands("cc", Some("/usr/bin::/bin")),
        pbs(&["/usr/bin/cc", "./cc", "/bin/cc"])
    );
    assert_eq!(cands("cc", Some(":/bin")), pbs(&["./cc", "/bin/cc"]));
    assert_eq!(cands("cc", Some("/bin:")), pbs(&["/bin/cc", "./cc"]));
}

#[test]
fn exec_candidates_name_with_a_slash_is_used_as_is() {
    assert_eq!(
        cands("./configure", Some("/usr/bin")),
        pbs(&["./configure"])
    );
    assert_eq!(cands("/bin/sh", Some("/usr/bin")), pbs(&["/bin/sh"]));
    assert_eq!(cands("sub/tool", None), pbs(&["sub/tool"]));
}

#[test]
fn exec_candidates_without_path_use_a_default() {
    assert_eq!(
        cands("sh", None),
        pbs(&["/usr/local/bin/sh", "/usr/bin/sh", "/bin/sh"])
    );
}

#[test]
fn compile_uses_the_commands_path() {
    let (_d, tmp) = fixture_dir(false);
    let mut c = ctx(&tmp);
    c.argv = vec!["make".into(), "-j4".into()];
    c.envp = vec![
        ("HOME".into(), "/h".into()),
        ("PATH".into(), "/opt/bin::/bin".into()),
    ];
    let p = compile(&Policy::default(), &c).unwrap();
    let got: Vec<String> = p.spec.exec_candidates.iter().map(s).collect();
    assert_eq!(got, ["/opt/bin/make", "./make", "/bin/make"]);
    let argv: Vec<String> = p.spec.argv.iter().map(s).collect();
    assert_eq!(argv, ["make", "-j4"]);
    let envp: Vec<String> = p.spec.envp.iter().map(s).collect();
    assert_eq!(envp, ["HOME=/h", "PATH=/opt/bin::/bin"]);
}

#[test]
fn compile_without_a_command_is_an_error() {
    let (_d, tmp) = fixture_dir(false);
    let mut c = ctx(&tmp);
    c.argv.clear();
    assert!(matches!(
        compile(&Policy::default(), &c),
        Err(PlanError::NoCommand)
    ));
}

#[test]
fn compile_refuses_nul_bytes() {
    let (_d, tmp) = fixture_dir(false);
    let mut c = ctx(&tmp);
    c.argv.push(OsString::from("a\0b"));
    assert!(matches!(
        compile(&Policy::default(), &c),
        Err(PlanError::Nul(_))
    ));
}

#[test]
fn network_and_id_map_follow_policy_and_context() {
    let (_d, tmp) = fixture_dir(false);
    let mut pol = Policy::default();
    let p = compile(&pol, &ctx(&tmp)).unwrap();
    assert!(!p.spec.unshare_net);
    assert_eq!(p.spec.id_map, IdMap::Own);
    pol.network = false;
    let mut c = ctx(&tmp);
    c.root = true;
    let p = compile(&pol, &c).unwrap();
    assert!(p.spec.unshare_net);
    assert_eq!(p.spec.id_map, IdMap::Identity);
}

// ---------------------------------------------------------------------------------------------
// (f) redirect

#[test]
fn redirect_to_a_missing_target_is_an_error_naming_it() {
    let (_d, tmp) = fixture_dir(false);
    let target = tmp.join("no-such-target");
    let e = compile(
        &policy(&[(&tmp.join("x"), RuleKind::Redirect { to: target.clone() })]),
        &ctx(&tmp),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            PlanError::Rule {
                keyword: "redirect",
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains(target.to_str().unwrap()), "{msg}");
    assert!(msg.contains("command line"), "{msg}");
}

/// Under a redirect, what is at a path is the target's entry, but `emit` asks the host path
/// whether it is a file: `empty` of a file that exists only in the target gets a tmpfs, which
/// cannot be mounted on the file the redirect shows there (ENOTDIR at startup).
#[test]
fn empty_under_a_redirect_follows_the_target() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["real", "shown"]);
    files(&tmp, &["real/data"]);
    let data = tmp.join("shown/data");
    let p = plan(
        &[
            (
                &tmp.join("shown"),
                RuleKind::Redirect {
                    to: tmp.join("real"),
                },
            ),
            (&data, RuleKind::Empty),
        ],
        &tmp,
    );
    let ops = &p.spec.ops;
    assert!(
        ops.iter().any(|op| matches!(op,
            MountOp::Bind { src, dst, .. } if s(src) == "/.cordon/empty" && s(dst) == nr(&data))),
        "{}",
        dump(ops)
    );
    assert!(
        !ops.iter().any(|op| is_tmpfs(op, &nr(&data))),
        "{}",
        dump(ops)
    );
}

#[test]
fn redirect_binds_the_target_read_only() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["real", "shown"]);
    files(&tmp, &["real/data"]);
    let p = plan(
        &[
            (&tmp, RuleKind::Rw),
            (
                &tmp.join("shown"),
                RuleKind::Redirect {
                    to: tmp.join("real"),
                },
            ),
        ],
        &tmp,
    );
    let dst = nr(&tmp.join("shown"));
    let src = format!("/oldroot{}", tmp.join("real").display());
    assert!(
        p.spec.ops.iter().any(|op| matches!(op,
            MountOp::Bind { src: sr, dst: d, readonly: true, .. }
                if s(sr) == src && s(d) == dst)),
        "{}",
        dump(&p.spec.ops)
    );
}

// ---------------------------------------------------------------------------------------------
// (g) deny and empty

#[test]
fn deny_of_a_file_binds_the_deny_file_read_only() {
    let (_d, tmp) = fixture_dir(false);
    files(&tmp, &["key.pem", "ok.txt"]);
    let key = tmp.join("key.pem");
    let p = plan(&[(&tmp, RuleKind::Ro), (&key, RuleKind::Deny)], &tmp);
    let ops = &p.spec.ops;
    // The deny file exists, unreadable, in the staging area, before the bind that uses it;
    // the empty file, which nothing uses, is not made.
    let made = |f: &str| {
        position(
            ops,
            |op| matches!(op, MountOp::Touch { path, .. } if s(path) == f),
        )
    };
    assert!(matches!(
        &ops[made("/.cordon/deny").expect("the deny file")],
        MountOp::Touch { mode: 0, .. }
    ));
    assert_eq!(made("/.cordon/empty"), None, "{}", dump(ops));
    let dst = nr(&key);
    let bind = position(ops, |op| is_bind_to(op, &dst)).expect("bind on the file");
    assert!(made("/.cordon/deny") < Some(bind));
    match &ops[bind] {
        MountOp::Bind {
            src,
            readonly,
            recursive,
            ..
        } => {
            assert_eq!(s(src), "/.cordon/deny");
            assert!(*readonly);
            assert!(!*recursive);
        }
        op => unreachable!("{op:?}"),
    }
    // After the directory holding it.
    let dir = position(ops, |op| is_bind_to(op, &nr(&tmp))).unwrap();
    assert!(dir < bind);
    // It exists on the host: no mirror needed.
    assert!(
        !ops.iter().any(|op| is_tmpfs(op, &nr(&tmp))),
        "{}",
        dump(ops)
    );
    assert_nothing_created_in_host_binds(ops);
}

#[test]
fn deny_of_a_dir_is_a_mode_0_tmpfs() {
    let (_d, tmp) = fixture_dir(false);
    mkdirs(&tmp, &["private"]);
    files(&tmp, &["private/x"]);
    let dir = tmp.join("private");
    let p = plan(&[(&tmp, RuleKind::Ro), (&dir, RuleKind::Deny)], &tmp);
    let ops = &p.spec.ops;
    assert!(
        ops.iter().any(|op| matches!(op,
        MountOp::Tmpfs { dst, mode: 0 } if s(dst) == nr(&dir))),
        "{}",
        dump(ops)
    );
    assert!(ops.iter().any(|op| is_ro_remount(op, &nr(&dir))));
    assert!(!ops.iter().any(|op| format!("{op:?}").contains("private/x")));
}

#[test]
fn empty_of_a_file_binds_the_empty_file_read_only() {
    let (_d, tmp) = fixture_dir(false);
    files(&tmp, &["config"]);
    let f = tmp.join("config");
    let p = plan(&[(&tmp, RuleKind::Rw), (&f, RuleKind::Empty)], &tmp);
    let ops = &p.spec.ops;
    assert!(ops.iter().any(|op| matches!(op,
        MountOp::Touch { path, mode: 0o444 } if s(path) == "/.cordon/empty")));
    assert!(
        ops.iter().any(|op| matches!(op,
        MountOp::Bind { src, dst, readonly: true, .. }
            if s(src) == "/.cordon/empty" && s(dst) == nr(&f))),
        "{}",
        dump(ops)
    );
}

#[test]
fn without_a_root_rule_the_staging_root_is_made_read_only_last() {
    let (_d, tmp) = fixture_dir(false);
    let p = plan(&[(&tmp, RuleKind::Rw)], &tmp);
    let ops = &p.spec.ops;
    assert!(
        matches!(ops.last(), Some(op) if is_ro_remount(op, NEWROOT)),
        "{}",
        dump(ops)
    );
    // The mount point of the bind is made on the staging root, before the bind.
    let point = position(ops, |op| is_mkdir(op, &nr(&tmp))).unwrap();
    let bind = position(ops, |op| is_bind_to(op, &nr(&tmp))).unwrap();
    assert!(point < bind);
}

// ---------------------------------------------------------------------------------------------
// The built-in build profile, on this machine

#[test]
fn build_profile_plan_hides_and_creates_nothing_on_the_host() {
    let (_d, cwd) = fixture_dir(true);
    let (_h, home) = fixture_dir(false);
    files(&cwd, &["Makefile"]);
    let vars = Vars::new(&home, &cwd, |_| None);
    let mut pol = Policy::default();
    Loader::new(vars).load_profile("build", &mut pol).unwrap();
    let mut c = ctx(&cwd);
    c.home = Some(home.clone());
    let p = compile(&pol, &c).unwrap_or_else(|e| panic!("{e}"));
    let ops = &p.spec.ops;
    assert_nothing_created_in_host_binds(ops);

    let tmp = position(ops, |op| is_tmpfs(op, "/newroot/tmp")).expect("tmpfs /tmp");
    let bind = position(ops, |op| is_bind_to(op, &nr(&cwd))).expect("bind of cwd");
    assert!(tmp < bind);
    assert!(matches!(
        &ops[bind],
        MountOp::Bind {
            readonly: false,
            ..
        }
    ));
    assert!(ops.iter().any(|op| is_tmpfs(op, &nr(&home))), "fresh home");

    // No hidden path is bound, made or linked.
    for rule in pol.rules.iter().filter(|r| r.kind == RuleKind::Hide) {
        let hidden = nr(&rule.path);
        for op in ops {
            let at = match op {
                MountOp::Bind { dst, .. } => s(dst),
                MountOp::Mkdir { path } | MountOp::Touch { path, .. } => s(path),
                MountOp::Symlink { path, .. } => s(path),
                _ => continue,
            };
            assert!(
                !Path::new(&at).starts_with(&hidden),
                "{} is hidden, yet {op:?}",
                rule.path.display()
            );
        }
    }
}

#[test]
fn path_entries_the_view_lacks_are_not_exec_candidates() {
    let (_d, tmp) = fixture_dir(false);
    let home = tmp.join("home");
    mkdirs(&home, &[".cargo/bin", "keep/bin"]);
    mkdirs(&tmp, &["bin", "hidden/bin"]);
    let keep = home.join("keep");
    let hidden = tmp.join("hidden");
    let mut pol = policy(&[
        (&tmp, RuleKind::Ro),
        (&hidden, RuleKind::Hide),
        (&keep, RuleKind::Ro),
    ]);
    pol.home = Home::Fresh;
    let mut c = ctx(&tmp);
    c.home = Some(home.clone());
    let path = [
        home.join(".cargo/bin"),
        hidden.join("bin"),
        tmp.join("bin"),
        keep.join("bin"),
        home.clone(),
        PathBuf::from("rel"),
    ];
    c.envp = vec![("PATH".into(), std::env::join_paths(&path).unwrap())];
    let cands: Vec<String> = compile(&pol, &c)
        .unwrap()
        .spec
        .exec_candidates
        .iter()
        .map(s)
        .collect();
    let want = |p: &Path| p.join("true").display().to_string();
    // Inside the fresh home only what a rule adds is there; a hidden directory is absent;
    // the home itself, host paths and relative entries are tried as execvp would.
    assert_eq!(
        cands,
        vec![
            want(&tmp.join("bin")),
            want(&keep.join("bin")),
            want(&home),
            "rel/true".to_string()
        ]
    );
}

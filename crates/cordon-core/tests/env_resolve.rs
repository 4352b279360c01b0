//! `cordon_core::env::resolve`: the command's environment from the caller's and the rules.

use std::ffi::OsString;
use std::path::Path;

use cordon_core::env::{resolve, ResolvedEnv};
use cordon_core::policy::{EnvPolicy, EnvRule, Loader, Origin, Policy, Vars};

fn host(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect()
}

fn origin(source: &str, line: usize) -> Origin {
    Origin {
        source: source.into(),
        line: Some(line),
    }
}

fn unset(pattern: &str, source: &str, line: usize) -> EnvRule {
    EnvRule::Unset {
        pattern: pattern.into(),
        origin: origin(source, line),
    }
}

fn keep(pattern: &str) -> EnvRule {
    EnvRule::Keep(pattern.into())
}

fn set(name: &str, value: &str) -> EnvRule {
    EnvRule::Set {
        name: name.into(),
        value: value.into(),
    }
}

fn policy(clear: bool, rules: Vec<EnvRule>) -> EnvPolicy {
    EnvPolicy { clear, rules }
}

/// The resolved variables as `NAME=VALUE` strings, in order.
fn pairs(r: &ResolvedEnv) -> Vec<String> {
    r.vars
        .iter()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect()
}

fn removed_names(r: &ResolvedEnv) -> Vec<&str> {
    r.removed.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn no_rules_keeps_everything_in_order() {
    let h = host(&[("B", "2"), ("A", "1"), ("C", "3")]);
    let r = resolve(&EnvPolicy::default(), h, &[]);
    assert_eq!(pairs(&r), ["B=2", "A=1", "C=3"]);
    assert!(r.removed.is_empty());
    assert_eq!(r.cleared, 0);
}

#[test]
fn unset_by_exact_name_records_the_origin() {
    let p = policy(false, vec![unset("SSH_AUTH_SOCK", "profile ssh", 12)]);
    let h = host(&[
        ("PATH", "/bin"),
        ("SSH_AUTH_SOCK", "/run/agent"),
        ("SSH_AUTH_SOCKET", "x"),
    ]);
    let r = resolve(&p, h, &[]);
    assert_eq!(pairs(&r), ["PATH=/bin", "SSH_AUTH_SOCKET=x"]);
    assert_eq!(
        r.removed,
        [("SSH_AUTH_SOCK".to_string(), origin("profile ssh", 12))]
    );
    assert_eq!(r.cleared, 0);
    assert!(r.get("SSH_AUTH_SOCK").is_none());
}

#[test]
fn unset_by_prefix_pattern_records_each_removed_variable() {
    let p = policy(
        false,
        vec![
            unset("PIP_*", "profile pip", 3),
            unset("GIT_CONFIG", "profile git", 7),
        ],
    );
    let h = host(&[
        ("PIP_INDEX_URL", "https://evil"),
        ("PATH", "/bin"),
        ("PIPX_HOME", "/p"),
        ("PIP_CONFIG_FILE", "/c"),
        ("GIT_CONFIG", "/g"),
        ("GIT_CONFIG_GLOBAL", "/gg"),
    ]);
    let r = resolve(&p, h, &[]);
    assert_eq!(
        pairs(&r),
        ["PATH=/bin", "PIPX_HOME=/p", "GIT_CONFIG_GLOBAL=/gg"]
    );
    assert_eq!(
        r.removed,
        [
            ("PIP_INDEX_URL".to_string(), origin("profile pip", 3)),
            ("PIP_CONFIG_FILE".to_string(), origin("profile pip", 3)),
            ("GIT_CONFIG".to_string(), origin("profile git", 7)),
        ]
    );
}

#[test]
fn the_last_matching_unset_is_the_recorded_origin() {
    let p = policy(
        false,
        vec![unset("A*", "first", 1), unset("ABC", "second", 2)],
    );
    let r = resolve(&p, host(&[("ABC", "x"), ("AB", "y")]), &[]);
    assert_eq!(
        r.removed,
        [
            ("ABC".to_string(), origin("second", 2)),
            ("AB".to_string(), origin("first", 1)),
        ]
    );
}

#[test]
fn keep_after_unset_restores() {
    let p = policy(
        false,
        vec![unset("GIT_*", "profile git", 1), keep("GIT_AUTHOR_NAME")],
    );
    let h = host(&[("GIT_AUTHOR_NAME", "me"), ("GIT_DIR", "/d")]);
    let r = resolve(&p, h, &[]);
    assert_eq!(pairs(&r), ["GIT_AUTHOR_NAME=me"]);
    assert_eq!(removed_names(&r), ["GIT_DIR"]);
}

#[test]
fn unset_after_keep_removes() {
    let p = policy(false, vec![keep("X"), unset("X", "f", 9)]);
    let r = resolve(&p, host(&[("X", "1")]), &[]);
    assert!(r.vars.is_empty());
    assert_eq!(r.removed, [("X".to_string(), origin("f", 9))]);
}

#[test]
fn set_overrides_in_place_and_creates_at_the_end() {
    let p = policy(false, vec![set("CC", "clang"), set("NEW", "v")]);
    let h = host(&[("CC", "gcc"), ("PATH", "/bin")]);
    let r = resolve(&p, h, &[]);
    assert_eq!(pairs(&r), ["CC=clang", "PATH=/bin", "NEW=v"]);
    assert!(r.removed.is_empty());
}

#[test]
fn set_after_unset_wins() {
    let p = policy(false, vec![unset("LANG*", "f", 1), set("LANG", "C")]);
    let r = resolve(
        &p,
        host(&[("LANG", "de_DE.UTF-8"), ("LANGUAGE", "de")]),
        &[],
    );
    assert_eq!(pairs(&r), ["LANG=C"]);
    assert_eq!(removed_names(&r), ["LANGUAGE"]);
}

#[test]
fn the_last_set_wins() {
    let p = policy(
        false,
        vec![set("A", "1"), set("A", "2"), set("B", "1"), set("B", "2")],
    );
    let r = resolve(&p, host(&[("A", "0")]), &[]);
    assert_eq!(pairs(&r), ["A=2", "B=2"]);
}

#[test]
fn unset_after_set_removes_an_existing_variable() {
    let p = policy(false, vec![set("X", "new"), unset("X", "f", 4)]);
    let r = resolve(&p, host(&[("X", "old"), ("Y", "y")]), &[]);
    assert_eq!(pairs(&r), ["Y=y"]);
    assert_eq!(r.removed, [("X".to_string(), origin("f", 4))]);
}

#[test]
fn unset_after_set_does_not_create_a_variable() {
    let p = policy(
        false,
        vec![
            set("X", "1"),
            unset("X", "f", 1),
            set("Y", "1"),
            unset("Y*", "f", 2),
        ],
    );
    let r = resolve(&p, host(&[("PATH", "/bin")]), &[]);
    assert_eq!(pairs(&r), ["PATH=/bin"]);
    assert!(
        r.removed.is_empty(),
        "the caller had neither: {:?}",
        r.removed
    );
}

#[test]
fn set_after_a_later_unset_creates_again() {
    let p = policy(
        false,
        vec![set("X", "1"), unset("X", "f", 1), set("X", "2")],
    );
    let r = resolve(&p, host(&[]), &[]);
    assert_eq!(pairs(&r), ["X=2"]);
}

#[test]
fn clear_removes_all_but_keep_and_set() {
    let p = policy(true, vec![keep("PATH"), keep("LC_*"), set("TERM", "dumb")]);
    let h = host(&[
        ("HOME", "/home/u"),
        ("PATH", "/bin"),
        ("LC_ALL", "C"),
        ("TERM", "xterm"),
        ("SECRET", "s"),
        ("EDITOR", "vi"),
    ]);
    let r = resolve(&p, h, &[]);
    assert_eq!(pairs(&r), ["PATH=/bin", "LC_ALL=C", "TERM=dumb"]);
    assert_eq!(r.cleared, 3, "HOME, SECRET, EDITOR");
    assert!(
        r.removed.is_empty(),
        "clear is not an unset: {:?}",
        r.removed
    );
}

#[test]
fn clear_then_set_creates() {
    let p = policy(true, vec![set("LANG", "C")]);
    let r = resolve(&p, host(&[("A", "1"), ("B", "2")]), &[]);
    assert_eq!(pairs(&r), ["LANG=C"]);
    assert_eq!(r.cleared, 2);
}

#[test]
fn clear_with_unset_counts_the_unset_one_as_removed() {
    let p = policy(true, vec![unset("A", "f", 1)]);
    let r = resolve(&p, host(&[("A", "1"), ("B", "2")]), &[]);
    assert!(r.vars.is_empty());
    assert_eq!(removed_names(&r), ["A"]);
    assert_eq!(r.cleared, 1);
}

#[test]
fn overrides_replace_in_place() {
    let overrides = [("HOME", OsString::from("/home/u"))];
    let h = host(&[("USER", "u"), ("HOME", "/real/home"), ("PATH", "/bin")]);
    let r = resolve(&EnvPolicy::default(), h, &overrides);
    assert_eq!(pairs(&r), ["USER=u", "HOME=/home/u", "PATH=/bin"]);
}

#[test]
fn overrides_create_when_missing() {
    let overrides = [("HOME", OsString::from("/tmp/home"))];
    let r = resolve(&EnvPolicy::default(), host(&[("PATH", "/bin")]), &overrides);
    assert_eq!(pairs(&r), ["PATH=/bin", "HOME=/tmp/home"]);
}

#[test]
fn overrides_survive_clear() {
    let overrides = [("HOME", OsString::from("/home/u"))];
    let p = policy(true, vec![]);
    let h = host(&[("HOME", "/real"), ("SECRET", "s")]);
    let r = resolve(&p, h, &overrides);
    assert_eq!(pairs(&r), ["HOME=/home/u"]);
    assert_eq!(r.cleared, 1);

    let r = resolve(&p, host(&[("SECRET", "s")]), &overrides);
    assert_eq!(pairs(&r), ["HOME=/home/u"]);
}

#[test]
fn explicit_rules_still_change_overrides() {
    let overrides = [("HOME", OsString::from("/home/u"))];
    let p = policy(false, vec![set("HOME", "/elsewhere")]);
    let r = resolve(&p, host(&[("HOME", "/real")]), &overrides);
    assert_eq!(pairs(&r), ["HOME=/elsewhere"]);

    let p = policy(false, vec![unset("HOME", "f", 1)]);
    let r = resolve(&p, host(&[("HOME", "/real")]), &overrides);
    assert!(r.vars.is_empty());
    assert_eq!(removed_names(&r), ["HOME"]);
}

#[test]
fn host_order_is_preserved_through_every_rule() {
    let p = policy(
        false,
        vec![
            unset("D", "f", 1),
            set("B", "b2"),
            set("Z", "z"),
            unset("A*", "f", 2),
            keep("AA"),
        ],
    );
    let h = host(&[
        ("E", "e"),
        ("D", "d"),
        ("B", "b"),
        ("AA", "aa"),
        ("AB", "ab"),
        ("C", "c"),
    ]);
    let r = resolve(&p, h, &[("Y", OsString::from("y"))]);
    assert_eq!(pairs(&r), ["E=e", "B=b2", "AA=aa", "C=c", "Y=y", "Z=z"]);
    assert_eq!(removed_names(&r), ["D", "AB"]);
}

#[test]
fn get_finds_by_name() {
    let r = resolve(&EnvPolicy::default(), host(&[("A", "1"), ("B", "2")]), &[]);
    assert_eq!(r.get("B"), Some(&OsString::from("2")));
    assert_eq!(r.get("C"), None);
}

#[test]
fn build_profile_environment() {
    let vars = Vars::new(Path::new("/home/u"), Path::new("/work/proj"), |_| None);
    let mut p = Policy::default();
    Loader::new(vars).load_profile("build", &mut p).unwrap();
    let h = host(&[
        ("PATH", "/usr/bin:/bin"),
        ("GIT_CONFIG_GLOBAL", "/home/u/other.gitconfig"),
        ("GIT_CONFIG_KEY_0", "core.hooksPath"),
        ("CC", "gcc"),
        ("PIP_INDEX_URL", "https://example.invalid/simple"),
        ("SSH_AUTH_SOCK", "/run/user/1000/agent"),
        ("npm_config_registry", "https://example.invalid"),
        ("LD_LIBRARY_PATH", "/opt/lib"),
        ("TMPDIR", "/home/u/tmp"),
        ("HOME", "/home/u"),
    ]);
    let r = resolve(&p.env, h, &[("HOME", OsString::from("/home/u"))]);
    assert_eq!(
        pairs(&r),
        [
            "PATH=/usr/bin:/bin",
            "CC=gcc",
            "LD_LIBRARY_PATH=/opt/lib",
            "HOME=/home/u"
        ]
    );
    let by: Vec<(&str, &str)> = r
        .removed
        .iter()
        .map(|(n, o)| (n.as_str(), o.source.as_str()))
        .collect();
    assert_eq!(
        by,
        [
            ("GIT_CONFIG_GLOBAL", "profile git"),
            ("GIT_CONFIG_KEY_0", "profile git"),
            ("PIP_INDEX_URL", "profile pip"),
            ("SSH_AUTH_SOCK", "profile ssh"),
            ("npm_config_registry", "profile npm"),
            ("TMPDIR", "profile build"),
        ]
    );
    assert!(r.removed.iter().all(|(_, o)| o.line.is_some()));
}

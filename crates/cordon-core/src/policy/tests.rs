//! Unit tests of the policy model and its loader.

use std::path::{Path, PathBuf};

use super::*;
use crate::profiles;

const HOME: &str = "/home/u";
const CWD: &str = "/work/proj";

fn vars() -> Vars {
    Vars::new(Path::new(HOME), Path::new(CWD), |_| None)
}

fn loader() -> Loader {
    Loader::new(vars())
}

/// Load `text` as the file `test.toml` into a default policy.
fn load(text: &str) -> Result<Policy, PolicyError> {
    let mut p = Policy::default();
    loader().load_text(text, "test.toml", None, &mut p)?;
    Ok(p)
}

fn load_err(text: &str) -> PolicyError {
    match load(text) {
        Ok(p) => panic!("expected an error, loaded {p:#?}"),
        Err(e) => e,
    }
}

fn profile(name: &str) -> Policy {
    let mut p = Policy::default();
    loader()
        .load_profile(name, &mut p)
        .unwrap_or_else(|e| panic!("profile {name}: {e}"));
    p
}

fn policy_with(rules: &[(&str, RuleKind)]) -> Policy {
    let mut p = Policy::default();
    for (path, kind) in rules {
        p.push_rule(path, kind.clone(), None, None, Origin::command_line())
            .unwrap();
    }
    p
}

fn kind_at<'a>(p: &'a Policy, path: &str) -> Option<&'a RuleKind> {
    p.rule_for(Path::new(path)).map(|r| &r.kind)
}

fn unset_patterns(p: &Policy) -> Vec<&str> {
    p.env
        .rules
        .iter()
        .filter_map(|r| match r {
            EnvRule::Unset { pattern, .. } => Some(pattern.as_str()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Policy::rule_for

#[test]
fn rule_for_longest_prefix_wins() {
    let p = policy_with(&[("/usr", RuleKind::Ro), ("/usr/include", RuleKind::Hide)]);
    assert_eq!(kind_at(&p, "/usr/include/zlib.h"), Some(&RuleKind::Hide));
    assert_eq!(kind_at(&p, "/usr/include"), Some(&RuleKind::Hide));
    assert_eq!(kind_at(&p, "/usr/lib"), Some(&RuleKind::Ro));
    assert_eq!(kind_at(&p, "/usr"), Some(&RuleKind::Ro));
}

#[test]
fn rule_for_longest_prefix_wins_whatever_the_order() {
    // The longer rule comes first: it still decides what is below it.
    let p = policy_with(&[("/usr/include", RuleKind::Hide), ("/usr", RuleKind::Ro)]);
    assert_eq!(kind_at(&p, "/usr/include/zlib.h"), Some(&RuleKind::Hide));
    assert_eq!(kind_at(&p, "/usr/lib"), Some(&RuleKind::Ro));
}

#[test]
fn rule_for_matches_whole_components_only() {
    let p = policy_with(&[("/", RuleKind::Hide), ("/usr", RuleKind::Ro)]);
    assert_eq!(kind_at(&p, "/usrx"), Some(&RuleKind::Hide));
    assert_eq!(kind_at(&p, "/usrx/lib"), Some(&RuleKind::Hide));
    assert_eq!(kind_at(&p, "/usr/lib"), Some(&RuleKind::Ro));

    let only_usr = policy_with(&[("/usr", RuleKind::Ro)]);
    assert!(only_usr.rule_for(Path::new("/usrx")).is_none());
}

#[test]
fn rule_for_later_rule_wins_for_the_same_path() {
    let p = policy_with(&[
        ("/etc", RuleKind::Ro),
        ("/etc", RuleKind::Hide),
        ("/", RuleKind::Rw),
    ]);
    assert_eq!(kind_at(&p, "/etc/passwd"), Some(&RuleKind::Hide));
    let p = policy_with(&[("/etc", RuleKind::Hide), ("/etc", RuleKind::Ro)]);
    assert_eq!(kind_at(&p, "/etc/passwd"), Some(&RuleKind::Ro));
}

#[test]
fn rule_for_without_a_covering_rule_is_none() {
    let p = policy_with(&[("/usr", RuleKind::Ro), ("/tmp", RuleKind::Tmpfs)]);
    assert!(p.rule_for(Path::new("/etc/passwd")).is_none());
    assert!(p.rule_for(Path::new("/")).is_none());
    assert!(Policy::default().rule_for(Path::new("/usr")).is_none());
}

#[test]
fn rule_for_returns_the_rule_itself() {
    let mut p = Policy::default();
    p.push_rule(
        "/srv/data",
        RuleKind::Rw,
        Some(Class::Scratch),
        Some("why".into()),
        Origin::command_line(),
    )
    .unwrap();
    let r = p.rule_for(Path::new("/srv/data/x")).unwrap();
    assert_eq!(r.path, PathBuf::from("/srv/data"));
    assert_eq!(r.class, Class::Scratch);
    assert_eq!(r.why.as_deref(), Some("why"));
    assert_eq!(r.origin, Origin::command_line());
}

// ---------------------------------------------------------------------------------------------
// normalize_absolute and push_rule

#[test]
fn normalize_absolute_refuses_relative_paths() {
    for raw in ["usr/lib", "./x", "x"] {
        let e = normalize_absolute(raw).unwrap_err();
        assert!(e.contains("relative"), "{raw}: {e}");
        assert!(e.contains("absolute"), "{raw}: {e}");
        assert!(e.contains(raw), "{raw}: {e}");
    }
}

#[test]
fn normalize_absolute_refuses_dotdot() {
    for raw in ["/a/../b", "/..", "/a/b/.."] {
        let e = normalize_absolute(raw).unwrap_err();
        assert!(e.contains(".."), "{raw}: {e}");
    }
}

#[test]
fn normalize_absolute_refuses_empty() {
    assert!(normalize_absolute("").is_err());
}

#[test]
fn normalize_absolute_makes_paths_lexically_normal() {
    let cases = [
        ("/a/./b/", "/a/b"),
        ("/a//b", "/a/b"),
        ("//a", "/a"),
        ("/", "/"),
        ("/.", "/"),
        ("/a/b/.", "/a/b"),
        ("/a b/c", "/a b/c"),
        ("/a/b", "/a/b"),
        ("/a/.b/..c/c.", "/a/.b/..c/c."),
    ];
    for (raw, want) in cases {
        // Byte for byte: the plan compares paths as bytes.
        assert_eq!(
            normalize_absolute(raw).unwrap().as_os_str(),
            std::ffi::OsStr::new(want),
            "{raw}"
        );
        assert_eq!(
            normalize_absolute(raw)
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with('/'),
            want == "/",
            "{raw}: no trailing slash"
        );
    }
}

#[test]
fn push_rule_normalizes_and_defaults_the_class() {
    let mut p = Policy::default();
    p.push_rule(
        "/a/./b/",
        RuleKind::Tmpfs,
        None,
        None,
        Origin::command_line(),
    )
    .unwrap();
    assert_eq!(p.rules[0].path, PathBuf::from("/a/b"));
    assert_eq!(p.rules[0].class, Class::Scratch);
    let e = p
        .push_rule("rel", RuleKind::Ro, None, None, Origin::command_line())
        .unwrap_err();
    assert!(e.contains("relative"), "{e}");
    assert_eq!(p.rules.len(), 1, "a refused rule is not added");
}

#[test]
fn push_rule_checks_the_redirect_target() {
    let mut p = Policy::default();
    p.push_rule(
        "/a",
        RuleKind::Redirect {
            to: PathBuf::from("/b/./c/"),
        },
        None,
        None,
        Origin::command_line(),
    )
    .unwrap();
    assert_eq!(
        p.rules[0].kind,
        RuleKind::Redirect {
            to: PathBuf::from("/b/c")
        }
    );
    let e = p
        .push_rule(
            "/a",
            RuleKind::Redirect {
                to: PathBuf::from("b"),
            },
            None,
            None,
            Origin::command_line(),
        )
        .unwrap_err();
    assert!(e.contains("redirect target"), "{e}");
}

#[test]
fn env_patterns_match_names_and_prefixes() {
    assert!(env_pattern_matches("PIP_*", "PIP_INDEX_URL"));
    assert!(env_pattern_matches("PIP_*", "PIP_"));
    assert!(!env_pattern_matches("PIP_*", "PIPX_HOME"));
    assert!(env_pattern_matches("HOME", "HOME"));
    assert!(!env_pattern_matches("HOME", "HOMEDIR"));
    assert!(!env_pattern_matches("HOME", "HOM"));
    assert!(env_pattern_matches("*", "ANYTHING"));
}

// ---------------------------------------------------------------------------------------------
// Vars

#[test]
fn vars_expand_home_and_cwd() {
    let v = vars();
    assert_eq!(
        v.expand("${HOME}/.gitconfig").unwrap(),
        "/home/u/.gitconfig"
    );
    assert_eq!(v.expand("${CWD}").unwrap(), "/work/proj");
    assert_eq!(v.expand("${CWD}:${HOME}").unwrap(), "/work/proj:/home/u");
    assert_eq!(v.expand("/plain/path").unwrap(), "/plain/path");
    assert_eq!(v.expand("").unwrap(), "");
    assert_eq!(v.expand("$HOME").unwrap(), "$HOME", "only ${{...}} expands");
}

#[test]
fn vars_xdg_defaults_under_home() {
    let v = vars();
    assert_eq!(v.expand("${XDG_CONFIG_HOME}").unwrap(), "/home/u/.config");
    assert_eq!(v.expand("${XDG_CACHE_HOME}").unwrap(), "/home/u/.cache");
    assert_eq!(
        v.expand("${XDG_DATA_HOME}").unwrap(),
        "/home/u/.local/share"
    );
}

#[test]
fn vars_xdg_from_env_only_when_absolute() {
    let v = Vars::new(Path::new(HOME), Path::new(CWD), |k| match k {
        "XDG_CONFIG_HOME" => Some("/cfg".into()),
        "XDG_CACHE_HOME" => Some("relative/cache".into()),
        "XDG_DATA_HOME" => Some(String::new()),
        _ => None,
    });
    assert_eq!(v.expand("${XDG_CONFIG_HOME}/git").unwrap(), "/cfg/git");
    assert_eq!(v.expand("${XDG_CACHE_HOME}").unwrap(), "/home/u/.cache");
    assert_eq!(
        v.expand("${XDG_DATA_HOME}").unwrap(),
        "/home/u/.local/share"
    );
}

#[test]
fn vars_do_not_take_home_or_cwd_from_env() {
    let v = Vars::new(Path::new(HOME), Path::new(CWD), |k| match k {
        "HOME" => Some("/elsewhere".into()),
        "CWD" | "PWD" => Some("/elsewhere".into()),
        _ => None,
    });
    assert_eq!(v.expand("${HOME}").unwrap(), HOME);
    assert_eq!(v.expand("${CWD}").unwrap(), CWD);
}

#[test]
fn vars_unknown_variable_is_named_with_the_known_ones() {
    let e = vars().expand("${HOME}/${NOPE}/x").unwrap_err();
    assert!(e.contains("${NOPE}"), "{e}");
    for known in [
        "${HOME}",
        "${CWD}",
        "${XDG_CONFIG_HOME}",
        "${XDG_CACHE_HOME}",
        "${XDG_DATA_HOME}",
    ] {
        assert!(e.contains(known), "{known} missing in: {e}");
    }
}

#[test]
fn vars_unterminated_reference_is_an_error() {
    for s in ["${HOME", "/a/${", "${HOME}/${CWD"] {
        let e = vars().expand(s).unwrap_err();
        assert!(e.contains("unterminated"), "{s}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Loader::load_text: rules

#[test]
fn every_rule_kind_parses_with_its_default_class() {
    let p = load(
        r#"
rules = [
  { ro = "/r" },
  { rw = "/w" },
  { hide = "/h" },
  { deny = "/d" },
  { empty = "/e" },
  { redirect = "/x", to = "/y" },
  { tmpfs = "/t" },
  { dev = "/dev" },
  { proc = "/proc" },
]
"#,
    )
    .unwrap();
    let got: Vec<(&str, RuleKind, Class)> = p
        .rules
        .iter()
        .map(|r| (r.path.to_str().unwrap(), r.kind.clone(), r.class))
        .collect();
    let want = vec![
        ("/r", RuleKind::Ro, Class::Declared),
        ("/w", RuleKind::Rw, Class::Declared),
        ("/h", RuleKind::Hide, Class::Declared),
        ("/d", RuleKind::Deny, Class::Declared),
        ("/e", RuleKind::Empty, Class::Declared),
        (
            "/x",
            RuleKind::Redirect {
                to: PathBuf::from("/y"),
            },
            Class::Declared,
        ),
        ("/t", RuleKind::Tmpfs, Class::Scratch),
        ("/dev", RuleKind::Dev, Class::System),
        ("/proc", RuleKind::Proc, Class::System),
    ];
    assert_eq!(got, want);
}

#[test]
fn explicit_class_overrides_the_default() {
    let p = load(
        r#"
rules = [
  { ro = "/usr", class = "system" },
  { tmpfs = "/t", class = "declared" },
  { dev = "/dev", class = "scratch" },
  { rw = "/w", class = "scratch", why = "staging" },
]
"#,
    )
    .unwrap();
    let classes: Vec<Class> = p.rules.iter().map(|r| r.class).collect();
    assert_eq!(
        classes,
        [
            Class::System,
            Class::Declared,
            Class::Scratch,
            Class::Scratch
        ]
    );
    assert_eq!(p.rules[3].why.as_deref(), Some("staging"));
    assert_eq!(p.rules[0].why, None);
}

#[test]
fn rule_paths_are_expanded_and_normalized() {
    let p = load(
        r#"
rules = [
  { hide = "${HOME}/./.ssh/" },
  { rw = "${CWD}" },
  { redirect = "/etc/x", to = "${HOME}/x" },
]
"#,
    )
    .unwrap();
    assert_eq!(p.rules[0].path, PathBuf::from("/home/u/.ssh"));
    assert_eq!(p.rules[1].path, PathBuf::from("/work/proj"));
    assert_eq!(
        p.rules[2].kind,
        RuleKind::Redirect {
            to: PathBuf::from("/home/u/x")
        }
    );
}

#[test]
fn rules_record_their_origin_line() {
    let p = load("rules = [\n  { ro = \"/a\" },\n\n  { rw = \"/b\" },\n]\n").unwrap();
    assert_eq!(
        p.rules[0].origin,
        Origin {
            source: "test.toml".into(),
            line: Some(2)
        }
    );
    assert_eq!(p.rules[1].origin.line, Some(4));
    assert_eq!(p.rules[1].origin.to_string(), "test.toml:4");
}

#[test]
fn array_of_tables_rules_record_their_line() {
    let p = load("network = false\n\n[[rules]]\nro = \"/a\"\n\n[[rules]]\nrw = \"/b\"\n").unwrap();
    assert_eq!(p.rules.len(), 2);
    assert_eq!(p.rules[0].origin.line, Some(3));
    assert_eq!(p.rules[1].origin.line, Some(6));
}

#[test]
fn home_and_network_settings() {
    let p = load("home = \"keep\"\nnetwork = false\n").unwrap();
    assert_eq!(p.home, Home::Keep);
    assert!(!p.network);
    let p = load("home = \"fresh\"\n").unwrap();
    assert_eq!(p.home, Home::Fresh);
    assert!(p.network, "network defaults to on");
    let p = load("home = \"${CWD}/home/\"\n").unwrap();
    assert_eq!(p.home, Home::Path(PathBuf::from("/work/proj/home")));
}

#[test]
fn sources_record_the_loaded_file() {
    let p = load("network = true\n").unwrap();
    assert_eq!(p.sources, ["test.toml"]);
}

// ---------------------------------------------------------------------------------------------
// Loader::load_text: errors and their lines

fn assert_error_at(e: &PolicyError, line: usize, needles: &[&str]) {
    assert_eq!(e.origin.source, "test.toml", "{e}");
    assert_eq!(e.origin.line, Some(line), "{e}");
    for n in needles {
        assert!(e.message.contains(n), "`{n}` missing in: {e}");
    }
    assert!(
        e.to_string().starts_with(&format!("test.toml:{line}: ")),
        "{e}"
    );
}

#[test]
fn syntax_error_reports_its_line() {
    let e = load_err("description = \"x\"\nnetwork = true\nrules = [ { ro = \"/usr\" ]\n");
    assert_error_at(&e, 3, &[]);
}

#[test]
fn unknown_rule_key_reports_its_line() {
    let e = load_err(
        "rules = [\n  { ro = \"/usr\" },\n  { hide = \"/etc\" },\n  { rw_x = \"/x\" },\n]\n",
    );
    assert_error_at(&e, 4, &["rw_x"]);
}

#[test]
fn unknown_top_level_key_is_an_error() {
    let e = load_err("network = true\n\nnetwrok = false\n");
    assert_error_at(&e, 3, &["netwrok"]);
}

#[test]
fn rule_with_two_kinds_is_an_error() {
    let e = load_err("rules = [\n  { ro = \"/a\" },\n  { ro = \"/b\", rw = \"/b\" },\n]\n");
    assert_error_at(&e, 3, &["ro", "rw", "one kind"]);
}

#[test]
fn rule_with_no_kind_is_an_error() {
    let e = load_err("rules = [\n  { why = \"nothing\" },\n]\n");
    assert_error_at(&e, 2, &["needs one of"]);
}

#[test]
fn relative_rule_path_reports_its_line() {
    let e = load_err(
        "description = \"x\"\nrules = [\n  { ro = \"/usr\" },\n  { ro = \"/etc\" },\n  { rw = \"build/out\" },\n]\n",
    );
    assert_error_at(&e, 5, &["relative", "absolute", "build/out"]);
}

#[test]
fn to_on_a_non_redirect_rule_is_an_error() {
    let e = load_err("rules = [\n  { ro = \"/a\", to = \"/b\" },\n]\n");
    assert_error_at(&e, 2, &["to", "redirect", "ro"]);
}

#[test]
fn redirect_without_to_is_an_error() {
    let e = load_err("\nrules = [ { redirect = \"/a\" } ]\n");
    assert_error_at(&e, 2, &["to"]);
}

#[test]
fn bad_class_value_is_an_error() {
    let e = load_err("rules = [\n  { ro = \"/a\" },\n  { ro = \"/b\", class = \"secret\" },\n]\n");
    assert_error_at(&e, 3, &["secret"]);
}

#[test]
fn relative_home_is_an_error() {
    let e = load_err("network = true\nhome = \"relative\"\n");
    assert_error_at(&e, 2, &["relative", "fresh", "keep"]);
}

#[test]
fn unknown_variable_in_a_rule_reports_its_line() {
    let e = load_err("rules = [\n  { hide = \"${HOME}/a\" },\n  { hide = \"${USER}/b\" },\n]\n");
    assert_error_at(&e, 3, &["${USER}"]);
}

#[test]
fn bad_env_pattern_reports_its_line() {
    let e = load_err("[env]\nunset = [\n  \"A\",\n  \"B*C\",\n]\n");
    assert_error_at(&e, 4, &["B*C"]);
}

// ---------------------------------------------------------------------------------------------
// Loader: env rules

#[test]
fn env_rules_in_a_file_are_unset_then_keep_then_set() {
    let p = load(
        r#"
[env]
set = { B = "2", A = "1" }
keep = ["K1", "K2*"]
unset = ["U1", "U2_*"]
clear = true
"#,
    )
    .unwrap();
    assert!(p.env.clear);
    let shape: Vec<String> = p
        .env
        .rules
        .iter()
        .map(|r| match r {
            EnvRule::Unset { pattern, .. } => format!("unset {pattern}"),
            EnvRule::Keep(p) => format!("keep {p}"),
            EnvRule::Set { name, value } => format!("set {name}={value}"),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "unset U1",
            "unset U2_*",
            "keep K1",
            "keep K2*",
            "set A=1",
            "set B=2"
        ]
    );
}

#[test]
fn unset_rules_record_their_origin_line() {
    let p = load("[env]\nunset = [\n  \"A\",\n  \"B\",\n]\n").unwrap();
    let lines: Vec<Option<usize>> = p
        .env
        .rules
        .iter()
        .map(|r| match r {
            EnvRule::Unset { origin, .. } => origin.line,
            _ => panic!("{r:?}"),
        })
        .collect();
    assert_eq!(lines, [Some(3), Some(4)]);
}

// ---------------------------------------------------------------------------------------------
// Loader: extends

#[test]
fn extends_builtin_profiles_merges_in_order() {
    let p = load(
        r#"
extends = ["ssh", "gpg"]
home = "keep"
network = false
rules = [ { ro = "/mine" } ]
[env]
unset = ["MINE"]
"#,
    )
    .unwrap();
    let ssh = profile("ssh");
    let gpg = profile("gpg");
    let n_ssh = ssh.rules.len();
    let n_gpg = gpg.rules.len();
    assert_eq!(p.rules.len(), n_ssh + n_gpg + 1);
    let paths = |p: &[Rule]| p.iter().map(|r| r.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&p.rules[..n_ssh]), paths(&ssh.rules));
    assert_eq!(paths(&p.rules[n_ssh..n_ssh + n_gpg]), paths(&gpg.rules));
    assert_eq!(p.rules.last().unwrap().path, PathBuf::from("/mine"));
    assert_eq!(p.rules[0].origin.source, "profile ssh");
    assert_eq!(p.rules[n_ssh].origin.source, "profile gpg");
    assert_eq!(p.rules.last().unwrap().origin.source, "test.toml");

    let unset = unset_patterns(&p);
    assert_eq!(unset.first(), Some(&"SSH_AUTH_SOCK"));
    assert_eq!(unset.last(), Some(&"MINE"));
    let gnupg = unset.iter().position(|u| *u == "GNUPGHOME").unwrap();
    let ssh_sock = unset.iter().position(|u| *u == "SSH_AUTH_SOCK").unwrap();
    assert!(ssh_sock < gnupg);

    assert_eq!(p.home, Home::Keep);
    assert!(!p.network);
    assert_eq!(p.sources, ["profile ssh", "profile gpg", "test.toml"]);
}

#[test]
fn own_settings_override_the_extended_ones() {
    // build says home = "fresh", network = true.
    let p = load("extends = [\"build\"]\nhome = \"keep\"\nnetwork = false\n").unwrap();
    assert_eq!(p.home, Home::Keep);
    assert!(!p.network);
    // Not mentioning them keeps the base's values.
    let mut p = Policy {
        home: Home::Keep,
        network: false,
        ..Policy::default()
    };
    loader()
        .load_text("extends = [\"build\"]\n", "test.toml", None, &mut p)
        .unwrap();
    assert_eq!(p.home, Home::Fresh);
    assert!(p.network);
}

#[test]
fn extends_unknown_profile_lists_the_builtin_ones() {
    let e = load_err("description = \"x\"\nextends = [\"git\", \"nosuch\"]\n");
    assert_error_at(&e, 2, &["nosuch"]);
    for name in profiles::names() {
        assert!(e.message.contains(name), "{name} missing in: {e}");
    }
}

#[test]
fn load_profile_unknown_name_is_an_error() {
    let mut p = Policy::default();
    let e = loader().load_profile("nosuch", &mut p).unwrap_err();
    assert!(e.message.contains("nosuch"), "{e}");
    assert!(e.message.contains("build"), "{e}");
    assert!(p.rules.is_empty());
}

#[test]
fn extends_relative_files() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        sub.join("base.toml"),
        "extends = [\"git\"]\nnetwork = false\nrules = [ { ro = \"/base\" } ]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mid.toml"),
        "extends = [\"sub/base.toml\"]\nrules = [ { ro = \"/mid\" } ]\n",
    )
    .unwrap();
    let top = dir.path().join("top.toml");
    std::fs::write(
        &top,
        "extends = [\"mid.toml\"]\nrules = [ { rw = \"/top\" } ]\n",
    )
    .unwrap();

    let mut p = Policy::default();
    loader().load_file(&top, &mut p).unwrap();
    let n_git = profile("git").rules.len();
    let own: Vec<&Path> = p.rules[n_git..].iter().map(|r| r.path.as_path()).collect();
    assert_eq!(
        own,
        [Path::new("/base"), Path::new("/mid"), Path::new("/top")]
    );
    assert!(!p.network);
    assert_eq!(p.sources.len(), 4);
    assert_eq!(p.sources[0], "profile git");
    assert!(p.sources[1].ends_with("base.toml"), "{:?}", p.sources);
    assert!(p.sources[2].ends_with("mid.toml"), "{:?}", p.sources);
    assert_eq!(p.sources[3], top.display().to_string());
    // The origin of a rule names the file it came from.
    assert!(p.rules[n_git].origin.source.ends_with("base.toml"));
    assert_eq!(p.rules[n_git].origin.line, Some(3));
}

#[test]
fn extends_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("top.toml");
    std::fs::write(&top, "extends = [\"missing.toml\"]\n").unwrap();
    let mut p = Policy::default();
    let e = loader().load_file(&top, &mut p).unwrap_err();
    assert!(e.to_string().contains("missing.toml"), "{e}");
}

#[test]
fn error_in_an_extended_file_names_that_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.toml"),
        "rules = [\n  { ro = \"/a\" },\n  { ro = \"rel\" },\n]\n",
    )
    .unwrap();
    let top = dir.path().join("top.toml");
    std::fs::write(&top, "extends = [\"base.toml\"]\n").unwrap();
    let e = loader()
        .load_file(&top, &mut Policy::default())
        .unwrap_err();
    assert!(e.origin.source.ends_with("base.toml"), "{e}");
    assert_eq!(e.origin.line, Some(3), "{e}");
}

#[test]
fn extends_cycle_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.toml");
    std::fs::write(&a, "extends = [\"b.toml\"]\n").unwrap();
    std::fs::write(dir.path().join("b.toml"), "extends = [\"a.toml\"]\n").unwrap();
    let mut loader = loader();
    let e = loader.load_file(&a, &mut Policy::default()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("cycle"), "{msg}");
    assert!(msg.contains("a.toml"), "{msg}");
    assert!(msg.contains("b.toml"), "{msg}");
    // The loader is usable afterwards: nothing is left on its stack.
    let mut p = Policy::default();
    loader
        .load_text("extends = [\"git\"]\n", "other.toml", None, &mut p)
        .unwrap();
    assert!(!p.rules.is_empty());
}

#[test]
fn extends_self_is_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.toml");
    std::fs::write(&a, "extends = [\"a.toml\"]\n").unwrap();
    let e = loader().load_file(&a, &mut Policy::default()).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
}

#[test]
fn extends_self_through_dot_is_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.toml");
    std::fs::write(&a, "extends = [\"./a.toml\"]\n").unwrap();
    let e = loader().load_file(&a, &mut Policy::default()).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
}

/// The same file reached through `..` is a different string each time, so the cycle check
/// never fires: the loader recurses until the path is too long (or, with a short directory
/// name, until the stack overflows and the process aborts). A long directory name keeps the
/// recursion short here, so that this test fails instead of crashing the test binary.
#[test]
fn extends_self_through_dotdot_is_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let name = "d".repeat(200);
    let sub = dir.path().join(&name);
    std::fs::create_dir(&sub).unwrap();
    let a = sub.join("a.toml");
    std::fs::write(&a, format!("extends = [\"../{name}/a.toml\"]\n")).unwrap();
    let e = loader().load_file(&a, &mut Policy::default()).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
}

#[test]
fn extends_same_profile_twice_is_not_a_cycle() {
    let p = load("extends = [\"git\", \"git\"]\n").unwrap();
    assert_eq!(p.rules.len(), 2 * profile("git").rules.len());
}

// ---------------------------------------------------------------------------------------------
// Built-in profiles

const CONFIG_PROFILES: [&str; 7] = ["git", "gpg", "cmake", "python", "pip", "ssh", "npm"];

#[test]
fn builtin_profile_names() {
    let mut names = profiles::names();
    names.sort_unstable();
    let mut want: Vec<&str> = CONFIG_PROFILES.to_vec();
    want.push("build");
    want.sort_unstable();
    assert_eq!(names, want);
}

#[test]
fn every_builtin_profile_loads_and_has_a_description() {
    for name in profiles::names() {
        let p = profile(name);
        assert!(!p.rules.is_empty(), "{name}: no rules");
        assert_eq!(p.sources.last().unwrap(), &format!("profile {name}"));
        let d = profiles::description(name).unwrap_or_default();
        assert!(!d.is_empty(), "{name}: no description");
    }
}

#[test]
fn build_profile_shape() {
    let p = profile("build");
    let has = |path: &str, kind: RuleKind| {
        p.rules
            .iter()
            .any(|r| r.path == Path::new(path) && r.kind == kind)
    };
    assert!(has("/", RuleKind::Ro));
    assert!(has("/tmp", RuleKind::Tmpfs));
    assert!(has("/var/tmp", RuleKind::Tmpfs));
    assert!(has("/dev", RuleKind::Dev));
    assert!(has("/proc", RuleKind::Proc));
    assert!(has("/run/user", RuleKind::Hide));

    let last = p.rules.last().unwrap();
    assert_eq!(last.path, PathBuf::from(CWD));
    assert_eq!(last.kind, RuleKind::Rw);
    assert_eq!(last.class, Class::Declared);

    assert_eq!(p.home, Home::Fresh);
    assert!(p.network);
    assert!(!p.env.clear);
    assert_eq!(
        p.sources,
        [
            "profile git",
            "profile gpg",
            "profile cmake",
            "profile python",
            "profile pip",
            "profile ssh",
            "profile npm",
            "profile build"
        ]
    );
}

#[test]
fn build_profile_decides_paths_as_intended() {
    let p = profile("build");
    let cases = [
        ("/usr/include/stdio.h", RuleKind::Ro),
        ("/etc/passwd", RuleKind::Ro),
        ("/home/u/.gitconfig", RuleKind::Hide),
        ("/home/u/.ssh/id_ed25519", RuleKind::Hide),
        ("/home/u/.gnupg/private-keys-v1.d", RuleKind::Hide),
        ("/home/u/.config/git/config", RuleKind::Hide),
        ("/home/u/.config/pip/pip.conf", RuleKind::Hide),
        (
            "/home/u/.local/lib/python3.12/site-packages",
            RuleKind::Hide,
        ),
        ("/home/u/.npmrc", RuleKind::Hide),
        ("/home/u/.netrc", RuleKind::Hide),
        ("/etc/gitconfig", RuleKind::Hide),
        ("/etc/ssh/ssh_config", RuleKind::Hide),
        ("/run/user/1000/gnupg/S.gpg-agent", RuleKind::Hide),
        ("/tmp/x", RuleKind::Tmpfs),
        ("/work/proj/src/main.c", RuleKind::Rw),
        ("/dev/null", RuleKind::Dev),
        ("/proc/self", RuleKind::Proc),
    ];
    for (path, want) in cases {
        assert_eq!(kind_at(&p, path), Some(&want), "{path}");
    }
}

#[test]
fn build_profile_cwd_under_tmp_stays_writable() {
    let v = Vars::new(Path::new(HOME), Path::new("/tmp/b"), |_| None);
    let mut p = Policy::default();
    Loader::new(v).load_profile("build", &mut p).unwrap();
    assert_eq!(kind_at(&p, "/tmp/b/out.o"), Some(&RuleKind::Rw));
    assert_eq!(kind_at(&p, "/tmp/other"), Some(&RuleKind::Tmpfs));
}

#[test]
fn build_profile_unsets_config_env() {
    let p = profile("build");
    let unset = unset_patterns(&p);
    for pat in [
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_KEY_*",
        "GIT_SSH_COMMAND",
        "PIP_*",
        "PYTHONPATH",
        "SSH_AUTH_SOCK",
        "GNUPGHOME",
        "NPM_CONFIG_*",
        "npm_config_*",
        "CMAKE_CONFIG_DIR",
        "XDG_CONFIG_HOME",
        "TMPDIR",
        "DBUS_SESSION_BUS_ADDRESS",
    ] {
        assert!(unset.contains(&pat), "{pat} not unset: {unset:?}");
    }
    // Toolchain variables are the caller's declarations: kept.
    for name in [
        "PATH",
        "CC",
        "CFLAGS",
        "LD_LIBRARY_PATH",
        "PKG_CONFIG_PATH",
        "HOME",
    ] {
        assert!(
            !unset.iter().any(|pat| env_pattern_matches(pat, name)),
            "{name} is unset"
        );
    }
    assert!(p
        .env
        .rules
        .iter()
        .all(|r| matches!(r, EnvRule::Unset { .. })));
    // Origins point back into the profile that unsets each.
    let origin = p
        .env
        .rules
        .iter()
        .find_map(|r| match r {
            EnvRule::Unset { pattern, origin } if pattern == "PIP_*" => Some(origin),
            _ => None,
        })
        .unwrap();
    assert_eq!(origin.source, "profile pip");
    assert!(origin.line.is_some());
}

#[test]
fn config_profiles_only_hide() {
    for name in CONFIG_PROFILES {
        let p = profile(name);
        for r in &p.rules {
            assert_eq!(r.kind, RuleKind::Hide, "{name}: {r:?}");
            assert!(r.why.is_some(), "{name}: {} has no why", r.path.display());
        }
        assert_eq!(p.home, Home::Fresh, "{name}: changes home");
        assert!(p.network, "{name}: changes network");
        assert!(!p.env.clear, "{name}: clears env");
    }
}

#[test]
fn profile_paths_follow_home_and_xdg() {
    let v = Vars::new(Path::new("/h"), Path::new(CWD), |k| {
        (k == "XDG_CONFIG_HOME").then(|| "/xdg".to_string())
    });
    let mut p = Policy::default();
    Loader::new(v).load_profile("git", &mut p).unwrap();
    assert_eq!(kind_at(&p, "/h/.gitconfig"), Some(&RuleKind::Hide));
    assert_eq!(kind_at(&p, "/xdg/git/config"), Some(&RuleKind::Hide));
    assert!(p.rule_for(Path::new("/home/u/.gitconfig")).is_none());
}

#[test]
fn built_in_profiles_load_as_their_text_parses() {
    // build.rs turns each profile into code; that code must give what parsing the text
    // at run time gives, lines and all.
    for name in profiles::names() {
        let mut built = Policy::default();
        loader().load_profile(name, &mut built).unwrap();
        let mut parsed = Policy::default();
        loader()
            .load_text(
                profiles::get(name).unwrap(),
                &format!("profile {name}"),
                None,
                &mut parsed,
            )
            .unwrap();
        assert_eq!(built, parsed, "profile {name}");
        assert!(
            !built.rules.is_empty() || !built.env.rules.is_empty(),
            "{name}"
        );
    }
}

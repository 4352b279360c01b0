//! The built-in profiles, as TOML data kept in the repository's `profiles/` directory (their
//! parsed form comes from build.rs; see `policy::load`).

// The list of profiles is build.rs's, which also parses them.
include!(concat!(env!("OUT_DIR"), "/profile_texts.rs"));

/// The TOML text of a built-in profile.
pub fn get(name: &str) -> Option<&'static str> {
    PROFILES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names of the built-in profiles.
pub fn names() -> Vec<&'static str> {
    PROFILES.iter().map(|(n, _)| *n).collect()
}

/// A profile's one-line description (its `description` key).
pub fn description(name: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct D {
        description: Option<String>,
    }
    let text = get(name)?;
    let d: D = toml::from_str::<toml::Value>(text)
        .ok()
        .and_then(|v| v.try_into().ok())?;
    d.description
}

//! `cordon doctor` and `cordon profiles`.

use anyhow::{anyhow, Result};

use cordon_core::backend;
use cordon_core::doctor::HostFacts;
use cordon_core::profiles;

pub fn doctor(json: bool) -> Result<i32> {
    let host = HostFacts::probe(true);
    let matrix = backend::matrix(&host);
    let (candidates, skipped) = backend::auto_candidates(&host);
    let chosen = candidates.first().cloned();
    if json {
        let v = serde_json::json!({
            "host": host,
            "backends": matrix,
            "auto": chosen.as_ref().map(|b| b.to_string()),
            "auto_guarantees": chosen.as_ref().map(|b| b.guarantees()),
            "auto_enforces": chosen.as_ref().map(|b| b.enforces()),
            "auto_skipped": skipped,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let yes_no = |ok: bool| if ok { "yes" } else { "no" };
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    println!("kernel            {}", host.kernel);
    println!("user              uid {}", host.uid);
    let u = &host.user_namespaces;
    match &u.error {
        None => println!("user namespaces   yes"),
        Some(e) => println!("user namespaces   no: {e}"),
    }
    println!(
        "  max_user_namespaces                  {}",
        opt(u.max_user_namespaces)
    );
    println!(
        "  unprivileged_userns_clone            {}",
        opt(u.unprivileged_userns_clone)
    );
    println!(
        "  apparmor_restrict_unprivileged_userns {}",
        opt(u.apparmor_restrict_unprivileged_userns)
    );
    match &host.overlay_in_userns {
        None => println!("overlayfs in userns yes"),
        Some(e) => println!("overlayfs in userns no: {e}"),
    }
    match (host.landlock_abi, &host.landlock_error) {
        (Some(v), _) => println!("landlock          ABI {v}"),
        (None, Some(e)) => println!("landlock          no: {e}"),
        (None, None) => println!("landlock          no"),
    }
    println!(
        "seccomp user notification {}",
        yes_no(host.seccomp_user_notif)
    );
    println!(
        "ptrace scope      {}",
        host.ptrace_scope
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no Yama (ptrace of own processes allowed)".into())
    );
    println!();
    println!("backends:");
    for a in &matrix {
        println!(
            "  {:<10} {:<4} {}",
            a.backend.name(),
            if a.usable { "yes" } else { "no" },
            a.reason
        );
        println!("                  {}", a.guarantees);
    }
    match chosen {
        Some(b) => println!("auto: {b} ({})", b.guarantees()),
        None => println!("auto: none: {}", skipped.join("; ")),
    }
    Ok(0)
}

pub fn profiles(name: Option<&str>) -> Result<i32> {
    match name {
        Some(n) => {
            let text = profiles::get(n).ok_or_else(|| {
                anyhow!(
                    "unknown profile `{n}` (built-in profiles: {})",
                    profiles::names().join(", ")
                )
            })?;
            print!("{text}");
        }
        None => {
            for n in profiles::names() {
                println!("{n:<8} {}", profiles::description(n).unwrap_or_default());
            }
        }
    }
    Ok(0)
}

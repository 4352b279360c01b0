//! Facts about this kernel and user: what `cordon doctor` prints and `--backend auto` uses.

use serde::Serialize;

use cordon_sys::error::errno_text;
use cordon_sys::probe;

/// Whether user namespaces work, with the sysctls that govern them.
#[derive(Debug, Clone, Serialize)]
pub struct UserNamespaces {
    /// `None` when creating one works; the error otherwise.
    pub error: Option<String>,
    /// /proc/sys/user/max_user_namespaces.
    pub max_user_namespaces: Option<u64>,
    /// Debian's /proc/sys/kernel/unprivileged_userns_clone, where it exists.
    pub unprivileged_userns_clone: Option<u64>,
    /// Ubuntu's AppArmor restriction, where it exists.
    pub apparmor_restrict_unprivileged_userns: Option<u64>,
}

/// What this kernel and user allow.
#[derive(Debug, Clone, Serialize)]
pub struct HostFacts {
    pub kernel: String,
    pub uid: u32,
    pub user_namespaces: UserNamespaces,
    /// `None` when overlayfs cannot be mounted in a user namespace here (Linux 5.11+).
    pub overlay_in_userns: Option<String>,
    pub landlock_abi: Option<u32>,
    /// Why Landlock is missing, when it is.
    pub landlock_error: Option<String>,
    pub seccomp_user_notif: bool,
    /// /proc/sys/kernel/yama/ptrace_scope, when Yama is present.
    pub ptrace_scope: Option<u64>,
}

fn read_num(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl HostFacts {
    /// Probe the host. Creates short-lived child processes; takes a few milliseconds.
    pub fn probe(with_overlay: bool) -> Self {
        let userns = probe::try_user_namespace(false);
        let overlay = if with_overlay && userns.is_ok() {
            probe::try_user_namespace(true).err().map(errno_text)
        } else if userns.is_err() {
            Some("no user namespaces".into())
        } else {
            None
        };
        let landlock = probe::landlock_abi();
        HostFacts {
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            uid: probe::euid(),
            user_namespaces: UserNamespaces {
                error: userns.err().map(|e| {
                    let mut s = errno_text(e);
                    if read_num("/proc/sys/user/max_user_namespaces") == Some(0) {
                        s.push_str("; /proc/sys/user/max_user_namespaces is 0");
                    }
                    if read_num("/proc/sys/kernel/unprivileged_userns_clone") == Some(0) {
                        s.push_str("; kernel.unprivileged_userns_clone is 0");
                    }
                    s
                }),
                max_user_namespaces: read_num("/proc/sys/user/max_user_namespaces"),
                unprivileged_userns_clone: read_num("/proc/sys/kernel/unprivileged_userns_clone"),
                apparmor_restrict_unprivileged_userns: read_num(
                    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                ),
            },
            overlay_in_userns: overlay,
            landlock_abi: landlock.ok(),
            landlock_error: landlock.err().map(|e| match e {
                cordon_sys::error::Errno::ENOSYS => {
                    "not built into this kernel (needs 5.13+)".into()
                }
                cordon_sys::error::Errno::EOPNOTSUPP => {
                    "built in but disabled (boot with lsm=...,landlock)".into()
                }
                e => errno_text(e),
            }),
            seccomp_user_notif: std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail")
                .map(|s| s.split_whitespace().any(|a| a == "user_notif"))
                .unwrap_or(false),
            ptrace_scope: read_num("/proc/sys/kernel/yama/ptrace_scope"),
        }
    }
}

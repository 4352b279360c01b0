//! The init's first phase, made while the supervisor parses its command line, resolves the
//! policy and compiles the plan: the staging root, an empty capability bounding set, and, once
//! the policy says it has them, what its root gets the same way whatever the rest of the plan
//! (the host's root with its submounts, a minimal /dev, a procfs with its read-only parts).
//!
//! The init shares the supervisor's memory and thread-local storage, errno included, and in
//! this phase the two may run at the same time on different CPUs. So every system call here goes
//! through rustix, whose raw calls never touch errno, and nothing allocates, locks or
//! unwinds: paths are literals.

use std::ffi::CStr;
use std::mem::MaybeUninit;

use nix::errno::Errno;
use rustix::fs::{FileType, Mode, CWD};
use rustix::mount::{MountFlags, MountPropagationFlags};

/// The failed call, the path it was given, the kernel's answer.
pub(crate) type StepError<'a> = (&'static str, &'a [u8], Errno);

/// Where a minimal /dev is made, to be moved into the new root.
pub(crate) const DEV: &CStr = c"/.cordon/dev";
/// Where the sandbox's procfs is mounted, to be moved into the new root.
pub(crate) const PROC: &CStr = c"/.cordon/proc";

/// Each node of [`crate::sandbox::DEV_NODES`]: the host's, and its mount point in [`DEV`].
const DEV_NODE_PATHS: [(&CStr, &CStr); 6] = [
    (c"/oldroot/dev/null", c"/.cordon/dev/null"),
    (c"/oldroot/dev/zero", c"/.cordon/dev/zero"),
    (c"/oldroot/dev/full", c"/.cordon/dev/full"),
    (c"/oldroot/dev/random", c"/.cordon/dev/random"),
    (c"/oldroot/dev/urandom", c"/.cordon/dev/urandom"),
    (c"/oldroot/dev/tty", c"/.cordon/dev/tty"),
];
/// Each link of [`crate::sandbox::DEV_LINKS`] in [`DEV`], with its target.
const DEV_LINK_PATHS: [(&CStr, &CStr); 5] = [
    (c"/.cordon/dev/ptmx", c"pts/ptmx"),
    (c"/.cordon/dev/fd", c"/proc/self/fd"),
    (c"/.cordon/dev/stdin", c"/proc/self/fd/0"),
    (c"/.cordon/dev/stdout", c"/proc/self/fd/1"),
    (c"/.cordon/dev/stderr", c"/proc/self/fd/2"),
];
/// The parts of a procfs that act beyond the sandbox's namespaces, made read-only.
const PROC_READONLY: [&CStr; 4] = [
    c"/.cordon/proc/sys",
    c"/.cordon/proc/sysrq-trigger",
    c"/.cordon/proc/irq",
    c"/.cordon/proc/bus",
];

fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// A step's error, with its call and path.
fn at(call: &'static str, path: &'static CStr) -> impl Fn(rustix::io::Errno) -> StepError<'static> {
    move |e| (call, path.to_bytes(), errno(e))
}

/// Give the init its own mount, IPC and UTS namespaces, owned by its user namespace. They
/// are made here, not by the clone, so that their cost (the copy of the host's mount table
/// above all) is the init's, beside the supervisor, not the supervisor's.
pub(crate) fn namespaces() -> Result<(), StepError<'static>> {
    use rustix::thread::UnshareFlags;
    // SAFETY: no file descriptor table is unshared (no UnshareFlags::FILES), which is what
    // makes unshare unsafe in rustix; the namespaces are this process's alone.
    unsafe {
        rustix::thread::unshare_unsafe(
            UnshareFlags::NEWNS | UnshareFlags::NEWIPC | UnshareFlags::NEWUTS,
        )
    }
    .map_err(at("unshare", c"mount, ipc and uts namespaces"))
}

/// Mount the staging tmpfs on `/tmp` and enter it; nothing done from here on may propagate
/// back to the host's mount namespace. Needs no id map (the directories made in it do).
pub(crate) fn staging_mount() -> Result<(), StepError<'static>> {
    rustix::mount::mount_change(
        c"/",
        MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC,
    )
    .map_err(at("mount", c"/ (make it a slave)"))?;
    rustix::mount::mount(
        c"tmpfs",
        c"/tmp",
        c"tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        c"mode=0755",
    )
    .map_err(at("mount", c"tmpfs on /tmp (staging)"))?;
    rustix::process::chdir(c"/tmp").map_err(at("chdir", c"/tmp"))
}

/// Read the host's mount table into `buf` (this process's, which is a copy of the host's
/// until the staging mount): the supervisor's plan needs it, and reading it there would
/// wait for this process's mounts. Returns the length, or None if it did not fit or failed.
pub(crate) fn read_mount_table(buf: &mut [MaybeUninit<u8>]) -> Option<usize> {
    let fd = rustix::fs::open(
        c"/proc/self/mountinfo",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut len = 0;
    loop {
        match rustix::io::read(&fd, &mut buf[len..]) {
            Ok(([], _)) => return Some(len),
            Ok((read, _)) => len += read.len(),
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        }
        if len == buf.len() {
            return None;
        }
    }
}

/// Make the staging root's directories and pivot into it: the host's root at `/oldroot`,
/// the new root's mount point at `/newroot`. Needs the id maps written.
pub(crate) fn staging_root() -> Result<(), StepError<'static>> {
    for d in [c"newroot", c"oldroot", c".cordon"] {
        rustix::fs::mkdir(d, Mode::from_raw_mode(0o755)).map_err(at("mkdir", d))?;
    }
    rustix::process::pivot_root(c".", c"oldroot").map_err(at("pivot_root", c"staging tmpfs"))?;
    rustix::process::chdir(c"/").map_err(at("chdir", c"/"))?;
    // Where the plan's private directories and overlay layers go (see `mount::scratch` and
    // `mount::overlay_layer`): made now, not after the plan is there.
    for d in [c"/.cordon/t", c"/.cordon/layers"] {
        rustix::fs::mkdir(d, Mode::from_raw_mode(0o755)).map_err(at("mkdir", d))?;
    }
    // The new root is a directory of the staging tmpfs, made a mount point for pivot_root.
    rustix::mount::mount_bind(c"/newroot", c"/newroot").map_err(at("bind", c"/newroot"))
}

/// The host's root with its submounts at the new root, as the plan's first bind makes it when
/// its root is the host's; the plan's op then makes it read-only (mount_setattr(2), which
/// rustix lacks, would set errno here).
pub(crate) fn root() -> Result<(), StepError<'static>> {
    rustix::mount::mount_bind_recursive(c"/oldroot", c"/newroot").map_err(at("bind", c"/oldroot"))
}

/// A minimal /dev at [`DEV`], as bubblewrap's `--dev`: the harmless device nodes the host has,
/// bound from it, a private devpts, a private shm, the usual links. Writable until the plan
/// has made what it adds in it.
pub(crate) fn dev() -> Result<(), StepError<'static>> {
    let dir = |path: &'static CStr, mode: u32| {
        rustix::fs::mkdir(path, Mode::from_raw_mode(mode)).map_err(at("mkdir", path))
    };
    dir(DEV, 0o755)?;
    rustix::mount::mount_bind(DEV, DEV).map_err(at("bind", DEV))?;
    for (src, dst) in DEV_NODE_PATHS {
        if rustix::fs::stat(src).is_err() {
            continue;
        }
        rustix::fs::mknodat(
            CWD,
            dst,
            FileType::RegularFile,
            Mode::from_raw_mode(0o666),
            0,
        )
        .map_err(at("create", dst))?;
        rustix::mount::mount_bind(src, dst).map_err(at("bind", src))?;
    }
    const PTS: &CStr = c"/.cordon/dev/pts";
    dir(PTS, 0o755)?;
    rustix::mount::mount(
        c"devpts",
        PTS,
        c"devpts",
        MountFlags::NOSUID | MountFlags::NOEXEC,
        c"newinstance,ptmxmode=0666,mode=620",
    )
    .map_err(at("mount", PTS))?;
    const SHM: &CStr = c"/.cordon/dev/shm";
    const SHM_SRC: &CStr = c"/.cordon/shm";
    dir(SHM, 0o755)?;
    dir(SHM_SRC, 0o1777)?;
    rustix::mount::mount_bind(SHM_SRC, SHM).map_err(at("bind", SHM))?;
    for (path, target) in DEV_LINK_PATHS {
        rustix::fs::symlink(target, path).map_err(at("symlink", path))?;
    }
    Ok(())
}

/// A procfs for the sandbox's pid namespace at [`PROC`], with the parts that reach beyond the
/// namespace read-only, as bubblewrap's `--proc` does: most sysctls under `/proc/sys` are
/// global and checked by their file mode only, so uid 0 inside (the caller's root, mapped to
/// itself) could set them even without a capability; `/proc/sysrq-trigger` and the `irq` and
/// `bus` directories act on the machine too.
pub(crate) fn proc() -> Result<(), StepError<'static>> {
    let flags = MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
    rustix::fs::mkdir(PROC, Mode::from_raw_mode(0o755)).map_err(at("mkdir", PROC))?;
    rustix::mount::mount(c"proc", PROC, c"proc", flags, None::<&CStr>)
        .map_err(at("mount", PROC))?;
    for path in PROC_READONLY {
        match rustix::mount::mount_bind(path, path) {
            Ok(()) => {}
            // Not in this kernel's configuration (no magic SysRq, say).
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(at("bind", path)(e)),
        }
        // A remount keeps no flag it is not given; these are the procfs's own, so no
        // locked flag is cleared.
        rustix::mount::mount_remount(path, MountFlags::BIND | MountFlags::RDONLY | flags, c"")
            .map_err(at("remount", path))?;
    }
    Ok(())
}

/// Empty the capability bounding set, which the command inherits: then exec as uid 0 inside
/// gives nothing back, whatever else holds.
pub(crate) fn drop_bounding_set() -> Result<(), StepError<'static>> {
    for cap in 0..64 {
        let one = rustix::thread::CapabilitySet::from_bits_retain(1 << cap);
        match rustix::thread::remove_capability_from_bounding_set(one) {
            Ok(()) => {}
            // Past the kernel's last capability.
            Err(rustix::io::Errno::INVAL) => break,
            Err(e) => return Err(at("prctl", c"PR_CAPBSET_DROP")(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{DEV_LINKS, DEV_NODES};

    #[test]
    fn literal_paths_follow_the_shared_lists() {
        for ((src, dst), name) in DEV_NODE_PATHS.iter().zip(DEV_NODES) {
            assert_eq!(src.to_bytes(), format!("/oldroot/dev/{name}").as_bytes());
            assert_eq!(dst.to_bytes(), format!("/.cordon/dev/{name}").as_bytes());
        }
        for ((path, target), (name, want)) in DEV_LINK_PATHS.iter().zip(DEV_LINKS) {
            assert_eq!(path.to_bytes(), format!("/.cordon/dev/{name}").as_bytes());
            assert_eq!(target.to_bytes(), want.as_bytes());
        }
        assert_eq!(DEV_NODE_PATHS.len(), DEV_NODES.len());
        assert_eq!(DEV_LINK_PATHS.len(), DEV_LINKS.len());
        assert!(DEV.to_bytes().starts_with(b"/.cordon/"));
        assert!(PROC_READONLY
            .iter()
            .all(|p| p.to_bytes().starts_with(PROC.to_bytes())));
    }
}

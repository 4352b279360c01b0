//! Mount helpers for the init. No allocation: paths are `CStr`, option strings are formatted
//! into stack buffers.

use std::ffi::CStr;

use nix::errno::Errno;

use nix::mount::{mount, MsFlags};
use nix::sys::stat::{Mode, SFlag};
use nix::sys::statvfs::{statvfs, FsFlags};

const PATH_MAX: usize = 4096;

/// `mkdir -p`; existing directories are fine. Tries the whole path first, then walks back
/// to the deepest existing ancestor: most mount points' parents exist already.
pub(crate) fn mkdir_p(path: &CStr) -> Result<(), Errno> {
    let bytes = path.to_bytes();
    if bytes.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut buf = [0u8; PATH_MAX];
    buf[..bytes.len()].copy_from_slice(bytes);
    // Where each prefix ends (the whole path last).
    let ends = (1..=bytes.len()).filter(|&i| i == bytes.len() || bytes[i] == b'/');
    let mut mkdir_at = |end: usize| -> Result<bool, Errno> {
        let saved = buf[end];
        buf[end] = 0;
        let prefix = CStr::from_bytes_until_nul(&buf[..=end]).map_err(|_| Errno::EINVAL)?;
        let r = nix::unistd::mkdir(prefix, Mode::from_bits_truncate(0o755));
        buf[end] = saved;
        match r {
            Ok(()) | Err(Errno::EEXIST) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    };
    // Walk back until a prefix can be made (or exists), then forward from there.
    let mut first_missing = None;
    for end in ends.clone().rev() {
        if mkdir_at(end)? {
            break;
        }
        first_missing = Some(end);
    }
    let Some(from) = first_missing else {
        return Ok(());
    };
    for end in ends.filter(|&e| e >= from) {
        if !mkdir_at(end)? {
            return Err(Errno::ENOENT);
        }
    }
    Ok(())
}

/// Create an empty file (a mount point for a file, or the source of `empty` and `deny`); an
/// existing one is left as it is (it may be on a read-only mount). The init runs with umask 0,
/// so `mode` is exact.
pub(crate) fn touch(path: &CStr, mode: u32) -> Result<(), Errno> {
    // mknod of a regular file: one call where open and close are two; like O_EXCL, it never
    // follows a symlink in the last component.
    let make = || nix::sys::stat::mknod(path, SFlag::S_IFREG, Mode::from_bits_truncate(mode), 0);
    match make() {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        // A file mount point in a directory not made yet: make it, then the file.
        Err(Errno::ENOENT) => match path.to_bytes().iter().rposition(|&b| b == b'/') {
            Some(slash) if slash > 0 => {
                let mut buf = [0u8; PATH_MAX];
                if slash >= PATH_MAX {
                    return Err(Errno::ENAMETOOLONG);
                }
                buf[..slash].copy_from_slice(&path.to_bytes()[..slash]);
                let parent = CStr::from_bytes_until_nul(&buf).map_err(|_| Errno::EINVAL)?;
                mkdir_p(parent)?;
                match make() {
                    Ok(()) | Err(Errno::EEXIST) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            _ => Err(Errno::ENOENT),
        },
        Err(e) => Err(e),
    }
}

pub(crate) fn bind(src: &CStr, dst: &CStr, recursive: bool) -> Result<(), Errno> {
    let mut flags = MsFlags::MS_BIND;
    if recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(Some(src), dst, None::<&CStr>, flags, None::<&CStr>)
}

/// A private, empty directory at `dst`: directory `n` of the staging tmpfs, `/.cordon/t/N`
/// (the staging root has `/.cordon/t`), bound there. All of them share the staging tmpfs,
/// which costs one superblock for the whole sandbox instead of one per directory; numbered,
/// each is one mkdir with its exact mode (the init's umask is 0, and Linux keeps the sticky
/// bit).
pub(crate) fn scratch(dst: &CStr, mode: u32, n: u32) -> Result<(), Errno> {
    const PREFIX: &[u8] = b"/.cordon/t/";
    let mut buf = [0u8; 32];
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    let len = PREFIX.len() + write_decimal(&mut buf[PREFIX.len()..], n);
    let dir = CStr::from_bytes_until_nul(&buf[..=len]).map_err(|_| Errno::EINVAL)?;
    nix::unistd::mkdir(dir, Mode::from_bits_truncate(mode))?;
    bind(dir, dst, false)
}

/// Write `n` in decimal at the start of `out`; returns the digits written.
fn write_decimal(out: &mut [u8], mut n: u32) -> usize {
    let mut digits = [0u8; 10];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (i, d) in digits[..len].iter().rev().enumerate() {
        out[i] = *d;
    }
    len
}

/// Make a bind read-only, with its submounts when `recursive`. Uses mount_setattr(2)
/// (Linux 5.12) and falls back to remounting each mount by itself on older kernels.
pub(crate) fn make_readonly<'a>(
    dst: &'a CStr,
    recursive: bool,
    submounts: &'a [std::ffi::CString],
) -> Result<(), (&'static str, &'a CStr, Errno)> {
    match crate::raw::mount_setattr_readonly(dst, recursive) {
        Ok(()) => return Ok(()),
        Err(Errno::ENOSYS) => {}
        Err(e) => return Err(("mount_setattr", dst, e)),
    }
    remount_readonly(dst).map_err(|e| ("remount", dst, e))?;
    if recursive {
        for sub in submounts {
            // A submount may have been covered by a later mount of the host; skip what is gone.
            match remount_readonly(sub) {
                Ok(()) | Err(Errno::ENOENT) | Err(Errno::EINVAL) => {}
                Err(e) => return Err(("remount", sub.as_c_str(), e)),
            }
        }
    }
    Ok(())
}

/// The top layer of an overlay: whiteouts (character devices 0:0, which an unprivileged
/// user may create since Linux 5.8), empty directories and empty files.
pub(crate) fn overlay_layer(
    layer: &CStr,
    whiteouts: &[std::ffi::CString],
    dirs: &[std::ffi::CString],
    files: &[std::ffi::CString],
) -> Result<(), Errno> {
    mkdir_p(layer)?;
    for w in whiteouts {
        nix::sys::stat::mknod(
            w.as_c_str(),
            nix::sys::stat::SFlag::S_IFCHR,
            Mode::empty(),
            0,
        )?;
    }
    for d in dirs {
        mkdir_p(d)?;
    }
    for f in files {
        touch(f, 0o644)?;
    }
    Ok(())
}

/// A read-only overlayfs (lower layers only) on `dst`.
pub(crate) fn overlay(dst: &CStr, options: &CStr) -> Result<(), Errno> {
    mount(
        Some(c"overlay"),
        dst,
        Some(c"overlay"),
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID,
        Some(options),
    )
}

/// Remount one mount read-only, keeping the flags it has: in a user namespace the kernel
/// refuses a remount that would clear a locked flag such as nosuid or nodev (mount(2), EPERM).
pub(crate) fn remount_readonly(dst: &CStr) -> Result<(), Errno> {
    let current = statvfs(dst)?.flags();
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
    for (have, keep) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if current.contains(have) {
            flags |= keep;
        }
    }
    mount(None::<&CStr>, dst, None::<&CStr>, flags, None::<&CStr>)
}

/// Bring up `lo` in a new network namespace, as bubblewrap does.
pub(crate) fn loopback_up() -> Result<(), Errno> {
    crate::raw::set_interface_up(c"lo")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn write_decimal_writes_digits() {
        for n in [0u32, 7, 10, 42, 1234567890, u32::MAX] {
            let mut buf = [0u8; 10];
            let len = write_decimal(&mut buf, n);
            assert_eq!(&buf[..len], n.to_string().as_bytes());
        }
    }

    #[test]
    fn mkdir_p_makes_what_is_missing_and_no_more() {
        let t = std::env::temp_dir().join(format!("mkdir-p-test-{}", std::process::id()));
        let c = |rel: &str| CString::new(format!("{}/{rel}", t.display())).unwrap();
        std::fs::create_dir_all(&t).unwrap();
        // Every level missing, then the same path again, then one more level.
        mkdir_p(&c("a/b/c")).unwrap();
        assert!(t.join("a/b/c").is_dir());
        mkdir_p(&c("a/b/c")).unwrap();
        mkdir_p(&c("a/b/c/d")).unwrap();
        assert!(t.join("a/b/c/d").is_dir());
        // A file on the way is an error, not a loop.
        std::fs::write(t.join("file"), "").unwrap();
        assert_eq!(mkdir_p(&c("file/x/y")), Err(Errno::ENOTDIR));
        assert!(
            mkdir_p(&c("file")).is_ok(),
            "EEXIST of the last component is fine"
        );
        let long = CString::new(vec![b'a'; PATH_MAX]).unwrap();
        assert_eq!(mkdir_p(&long), Err(Errno::ENAMETOOLONG));
        std::fs::remove_dir_all(&t).unwrap();
    }
}

//! File system calls a supervisor makes on behalf of a suspended process (the seccomp
//! backend's redirects): open a path with the caller's flags, stat it into the kernel's own
//! struct layout, check access. Each returns the kernel's answer as an errno.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;

fn cpath(path: &Path) -> Result<CString, Errno> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
}

/// open(2) `path` with the caller's `flags` and `mode`, close-on-exec in cordon.
pub fn open(path: &Path, flags: i32, mode: u32) -> Result<OwnedFd, Errno> {
    let p = cpath(path)?;
    // SAFETY: p is a valid NUL-terminated string for the duration of the call; the result is
    // a new descriptor this function owns, or -1.
    let fd = unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, mode as libc::c_uint) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: fd was just returned by open(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// fstatat(2) `path` into the bytes of a `struct stat`, following a last symlink when
/// `follow`.
pub fn stat_bytes(path: &Path, follow: bool) -> Result<Vec<u8>, Errno> {
    let p = cpath(path)?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    // SAFETY: p is a valid C string and st points to writable memory of the struct's size.
    let r = unsafe { libc::fstatat(libc::AT_FDCWD, p.as_ptr(), st.as_mut_ptr(), flags) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: fstatat succeeded, so the struct is initialised; it is plain old data.
    let st = unsafe { st.assume_init() };
    // SAFETY: reading the bytes of a plain-old-data struct of exactly this size.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&st as *const libc::stat).cast::<u8>(),
            std::mem::size_of::<libc::stat>(),
        )
    };
    Ok(bytes.to_vec())
}

/// statx(2) `path` with the caller's `flags` (AT_SYMLINK_NOFOLLOW, sync flags) and `mask`,
/// into the bytes of a `struct statx`.
pub fn statx_bytes(path: &Path, flags: i32, mask: u32) -> Result<Vec<u8>, Errno> {
    let p = cpath(path)?;
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: p is a valid C string and stx points to writable memory of the struct's size.
    let r = unsafe { libc::statx(libc::AT_FDCWD, p.as_ptr(), flags, mask, stx.as_mut_ptr()) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: statx succeeded, so the struct is initialised; it is plain old data.
    let stx = unsafe { stx.assume_init() };
    // SAFETY: reading the bytes of a plain-old-data struct of exactly this size.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&stx as *const libc::statx).cast::<u8>(),
            std::mem::size_of::<libc::statx>(),
        )
    };
    Ok(bytes.to_vec())
}

/// faccessat(2) `path` for `mode` (R_OK, W_OK, X_OK, F_OK).
pub fn access(path: &Path, mode: i32) -> Result<(), Errno> {
    let p = cpath(path)?;
    // SAFETY: p is a valid C string for the duration of the call.
    let r = unsafe { libc::faccessat(libc::AT_FDCWD, p.as_ptr(), mode, 0) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Whether the file system holding `path` is mounted noexec (where a preloaded library cannot
/// be mapped executable).
pub fn is_noexec(path: &Path) -> Result<bool, Errno> {
    let p = cpath(path)?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: p is a valid C string and st points to writable memory of the struct's size.
    let r = unsafe { libc::statvfs(p.as_ptr(), st.as_mut_ptr()) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: statvfs succeeded, so the struct is initialised.
    let st = unsafe { st.assume_init() };
    Ok(st.f_flag & libc::ST_NOEXEC != 0)
}

/// The entries of a getdents64 (`is64`) or getdents buffer without those named in `drop`,
/// and, with `keep_only`, without those not named there (`.` and `..` always stay). None
/// when the buffer is malformed.
pub fn filter_dirents(
    buf: &[u8],
    is64: bool,
    drop: &[Vec<u8>],
    keep_only: Option<&[Vec<u8>]>,
) -> Option<Vec<u8>> {
    // linux_dirent64: ino (8), off (8), reclen (2), type (1), name; linux_dirent: no type.
    let name_at = if is64 { 19 } else { 18 };
    let mut out = Vec::with_capacity(buf.len());
    let mut at = 0usize;
    while at + name_at <= buf.len() {
        let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < name_at || at + reclen > buf.len() {
            return None;
        }
        let rec = &buf[at..at + reclen];
        let name = &rec[name_at..];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        let keep = name == b"." || name == b".." || {
            !drop.iter().any(|d| d == name)
                && keep_only.map_or(true, |k| k.iter().any(|d| d == name))
        };
        if keep {
            out.extend_from_slice(rec);
        }
        at += reclen;
    }
    Some(out)
}

/// getdents64 on descriptor `fd` of process `pid` (a copy of it, taken with pidfd_getfd,
/// Linux 5.6, which shares its offset): up to `count` bytes of entries, read as the process
/// itself would have read them.
pub fn getdents64_of(pid: i32, fd: i32, count: usize) -> Result<Vec<u8>, Errno> {
    // SAFETY: integer arguments only; the result is a new descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if pidfd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: pidfd was just returned and is owned by nobody else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // SAFETY: integer arguments only; the result is a new descriptor or -1.
    let dup = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            std::os::fd::AsRawFd::as_raw_fd(&pidfd),
            fd,
            0,
        )
    };
    if dup < 0 {
        return Err(Errno::last());
    }
    // SAFETY: dup was just returned and is owned by nobody else.
    let dup = unsafe { OwnedFd::from_raw_fd(dup as i32) };
    let mut buf = vec![0u8; count.min(1 << 20)];
    // SAFETY: buf is writable for its whole length, which is what the kernel is told.
    let n = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            std::os::fd::AsRawFd::as_raw_fd(&dup),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(Errno::last());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_kernel_does() {
        let me = std::env::current_exe().unwrap();
        assert!(open(&me, libc::O_RDONLY, 0).is_ok());
        assert_eq!(
            open(Path::new("/no/such/file"), libc::O_RDONLY, 0).unwrap_err(),
            Errno::ENOENT
        );
        let st = stat_bytes(&me, true).unwrap();
        assert_eq!(st.len(), std::mem::size_of::<libc::stat>());
        let size = std::fs::metadata(&me).unwrap().len() as i64;
        // st_size is at offset 48 in x86_64's struct stat.
        #[cfg(target_arch = "x86_64")]
        assert_eq!(i64::from_ne_bytes(st[48..56].try_into().unwrap()), size);
        let stx = statx_bytes(&me, 0, libc::STATX_BASIC_STATS).unwrap();
        assert_eq!(stx.len(), std::mem::size_of::<libc::statx>());
        assert!(access(&me, libc::X_OK).is_ok());
        // The test binary runs, so its file system is not noexec.
        assert_eq!(is_noexec(&me), Ok(false));
        // This process's own descriptor of a directory, listed through pidfd_getfd.
        let t = std::env::temp_dir().join(format!("hostfs-test-{}", std::process::id()));
        std::fs::create_dir_all(t.join("keep")).unwrap();
        std::fs::create_dir_all(t.join("secret")).unwrap();
        let dir = open(&t, libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&dir);
        let raw = getdents64_of(std::process::id() as i32, fd, 4096).unwrap();
        let names = |b: &[u8]| -> usize { filter_dirents(b, true, &[], None).unwrap().len() };
        let all = names(&raw);
        let kept = filter_dirents(&raw, true, &[b"secret".to_vec()], None).unwrap();
        assert!(kept.len() < all && !kept.windows(6).any(|w| w == b"secret"));
        assert!(kept.windows(4).any(|w| w == b"keep"));
        // The offset is shared: the next read is at the end.
        assert!(getdents64_of(std::process::id() as i32, fd, 4096)
            .unwrap()
            .is_empty());
        std::fs::remove_dir_all(&t).unwrap();
        assert_eq!(
            access(Path::new("/no/such"), libc::F_OK).unwrap_err(),
            Errno::ENOENT
        );
    }
}

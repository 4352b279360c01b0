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
        assert_eq!(
            access(Path::new("/no/such"), libc::F_OK).unwrap_err(),
            Errno::ENOENT
        );
    }
}

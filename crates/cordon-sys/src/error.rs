//! Errors of system calls, naming the call and its key argument.

use std::fmt;

pub use nix::errno::Errno;

/// A failed system call: `mount /usr -> /newroot/usr: EPERM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysError {
    /// The call that failed, e.g. `mount`.
    pub call: &'static str,
    /// Its key argument, e.g. the path.
    pub arg: String,
    /// What the kernel answered.
    pub errno: Errno,
}

impl SysError {
    pub(crate) fn new(call: &'static str, arg: impl Into<String>, errno: Errno) -> Self {
        SysError {
            call,
            arg: arg.into(),
            errno,
        }
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.arg.is_empty() {
            write!(f, "{}: {}", self.call, errno_text(self.errno))
        } else {
            write!(f, "{} {}: {}", self.call, self.arg, errno_text(self.errno))
        }
    }
}

impl std::error::Error for SysError {}

/// `ENOENT (No such file or directory)`.
pub fn errno_text(errno: Errno) -> String {
    format!("{errno:?} ({})", errno.desc())
}

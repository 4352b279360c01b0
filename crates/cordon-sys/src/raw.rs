//! Raw system calls that `nix` does not wrap: capset(2), mount_setattr(2), and the interface
//! flags ioctl. Kernel structs carry compile-time size checks.

use std::ffi::CStr;

use nix::errno::Errno;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct`; version 3 takes two of them (64 capability bits).
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const _: () = assert!(std::mem::size_of::<CapHeader>() == 8);
const _: () = assert!(std::mem::size_of::<CapData>() == 12);
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Empty the capability bounding set (when `bounding`) and the ambient set.
fn drop_bounding_and_ambient(bounding: bool) -> Result<(), Errno> {
    let caps = if bounding { 0..64 } else { 0..0 };
    for cap in caps {
        // Drop first: one call per capability when this process may (CAP_SETPCAP), as in
        // the sandbox's init. Only a refusal asks whether there was anything to drop.
        // SAFETY: PR_CAPBSET_DROP takes an integer argument and touches no memory of ours.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } == 0 {
            continue;
        }
        match Errno::last() {
            // Past the kernel's last capability.
            Errno::EINVAL => break,
            // Without CAP_SETPCAP (refused before the capability is even checked): fine if
            // it is out of the set already, and the end if there is no such capability.
            // SAFETY: PR_CAPBSET_READ takes an integer argument and touches no memory.
            Errno::EPERM => match unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } {
                0 => continue,
                held if held > 0 => return Err(Errno::EPERM),
                _ => break,
            },
            e => return Err(e),
        }
    }
    // SAFETY: integer arguments only. EINVAL on kernels before 4.3, which have no ambient set.
    let r = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    };
    if r < 0 && Errno::last() != Errno::EINVAL {
        return Err(Errno::last());
    }
    Ok(())
}

/// Drop every capability: the bounding set unless `bounding` is false because it is empty
/// already (so that exec as uid 0 inside the namespace gains nothing back), the ambient set,
/// and the effective, permitted and inheritable sets.
pub(crate) fn drop_capabilities(bounding: bool) -> Result<(), Errno> {
    drop_bounding_and_ambient(bounding)?;
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and data are valid, properly sized kernel structs (checked above) that
    // live for the duration of the call; version 3 reads exactly two CapData.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Make the next exec give no capability while keeping the current ones until then (a
/// root-owned working directory or a Landlock ruleset may still need them): lock
/// SECBIT_NOROOT, so that exec as uid 0 grants no file capabilities (capabilities(7), "Root
/// and capabilities"), empty the bounding set and clear the ambient and inheritable sets. Exec
/// then computes empty permitted and effective sets. Needs CAP_SETPCAP.
pub(crate) fn drop_capabilities_at_exec() -> Result<(), Errno> {
    // SAFETY: PR_GET_SECUREBITS takes no pointer and returns the bits.
    let bits = unsafe { libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0) };
    if bits < 0 {
        return Err(Errno::last());
    }
    let bits = bits | libc::SECBIT_NOROOT | libc::SECBIT_NOROOT_LOCKED;
    // SAFETY: PR_SET_SECUREBITS takes an integer argument and touches no memory of ours.
    if unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits as libc::c_ulong, 0, 0, 0) } < 0 {
        return Err(Errno::last());
    }
    drop_bounding_and_ambient(true)?;
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and data are valid, properly sized kernel structs (checked above) that
    // live for the duration of the call; version 3 writes exactly two CapData.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if r < 0 {
        return Err(Errno::last());
    }
    for d in &mut data {
        d.inheritable = 0;
    }
    // SAFETY: as for capget; capset only reads header and the two CapData.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// `struct mount_attr` (Linux 5.12).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}
const _: () = assert!(std::mem::size_of::<MountAttr>() == 32);
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const AT_RECURSIVE: libc::c_uint = 0x8000;

/// Set MOUNT_ATTR_RDONLY on the mount at `path` (and its submounts when `recursive`).
/// ENOSYS on kernels before 5.12.
pub(crate) fn mount_setattr_readonly(path: &CStr, recursive: bool) -> Result<(), Errno> {
    let flags = if recursive { AT_RECURSIVE } else { 0 };
    setattr_readonly(libc::AT_FDCWD, path, flags)
}

/// Whether this kernel has mount_setattr(2) (Linux 5.12): asked with a descriptor that
/// cannot be valid, which only a kernel without the call answers with ENOSYS.
pub(crate) fn mount_setattr_exists() -> bool {
    setattr_readonly(-1, c"", libc::AT_EMPTY_PATH as libc::c_uint) != Err(Errno::ENOSYS)
}

/// mount_setattr(2) with MOUNT_ATTR_RDONLY.
fn setattr_readonly(dirfd: libc::c_int, path: &CStr, flags: libc::c_uint) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: path is a valid NUL-terminated string and attr a valid struct of the size passed;
    // both outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Set IFF_UP on an interface (SIOCSIFFLAGS), as `ip link set lo up` does.
pub(crate) fn set_interface_up(name: &CStr) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.to_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(Errno::EINVAL);
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes the flags union member of a valid ifreq.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel filled ifru_flags above; reading and updating it is reading an i16.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads a valid ifreq.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// _exit(2): leave without running atexit handlers or flushing stdio buffers that belong to
/// the process this one was forked from.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions and does not return.
    unsafe { libc::_exit(code) }
}

/// Let SIGPIPE end the process again. Rust's runtime ignores it, and an ignored signal stays
/// ignored across exec: a command started with it ignored would see `yes | head` fail with
/// EPIPE instead of ending quietly, unlike anywhere else. std's `Command` resets it likewise.
pub fn default_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: SIG_DFL installs no handler; sigaction is async-signal-safe, so this may run
    // between fork and exec.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// What Rust's runtime does before `main`, for a binary that starts without it
/// (`#![no_main]`): make sure descriptors 0, 1 and 2 are open (on /dev/null if not), so that
/// no file cordon opens later takes their place and reaches the command as its output; and
/// ignore SIGPIPE, so that a closed pipe is an error to handle rather than death.
pub fn process_start() {
    for fd in 0..=2 {
        // SAFETY: F_GETFD takes no pointer; it only asks whether `fd` is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 && Errno::last() == Errno::EBADF {
            // SAFETY: a constant NUL-terminated path. The lowest free descriptor is `fd`.
            let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if opened != fd {
                // No /dev/null, or another thread: nothing safe to continue on.
                std::process::abort();
            }
        }
    }
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: SIG_IGN installs no handler.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}

/// The process [`forward_signals`] sends to.
static FORWARD_TO: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let pid = FORWARD_TO.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes no pointer.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Send each of `signals` that this process receives on to `pid`, from the handler itself:
/// no window where a signal is noted but not yet forwarded while the caller blocks in
/// waitpid. SA_RESTART keeps the caller's calls going.
pub(crate) fn forward_signals(pid: i32, signals: &[nix::sys::signal::Signal]) -> Result<(), Errno> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow};
    FORWARD_TO.store(pid, std::sync::atomic::Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(forward_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    let mut set = SigSet::empty();
    for &sig in signals {
        // SAFETY: the handler only loads an atomic and calls kill, both async-signal-safe.
        unsafe { sigaction(sig, &action) }?;
        set.add(sig);
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None)
}

/// The stack of a process that shares this one's memory, with a guard page below it so
/// that an overflow faults instead of writing into the memory of the process it shares.
pub(crate) struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

impl ChildStack {
    const PAGE: usize = 4096;

    pub(crate) fn new(size: usize) -> Result<Self, Errno> {
        let len = size + Self::PAGE;
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the lowest page of the mapping made above becomes the guard page.
        if unsafe { libc::mprotect(base, Self::PAGE, libc::PROT_NONE) } < 0 {
            return Err(Errno::last());
        }
        Ok(stack)
    }

    /// One past the highest byte: where a downward-growing stack starts (16-byte aligned).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping is in bounds for pointer arithmetic.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; its owner outlives every process that used it.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// The entry point of a child started by [`spawn_shared`] or [`clone_shared`]: run the
/// closure in `arg`, and exit should it return.
extern "C" fn start_child<F: FnOnce()>(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` points to the `Option<F>` the parent keeps alive for the child's whole
    // life (see the callers); only the child touches it.
    let slot = unsafe { &mut *arg.cast::<Option<F>>() };
    if let Some(f) = slot.take() {
        f();
    }
    exit_now(125)
}

/// Run `child` in a new process that shares this one's memory while this one waits, as
/// posix_spawn(3) does (clone with CLONE_VM and CLONE_VFORK): no page table is copied and no
/// page is copied on write, which made a fork the slowest step of starting the command.
/// Returns the child's pid once it has executed its program or exited.
///
/// `child` must end in a successful exec or [`exit_now`] (should it return, the child exits
/// with 125). Until then it runs on this process's memory: it must not allocate, lock or
/// unwind, only make system calls on data prepared in advance. Signal handlers are not
/// shared (no CLONE_SIGHAND).
pub(crate) fn spawn_shared<F: FnOnce()>(child: F) -> Result<i32, Errno> {
    let stack = ChildStack::new(128 * 1024)?;
    let mut slot = Some(child);
    // SAFETY: CLONE_VFORK suspends this thread until the child has executed or exited, so the
    // child has `slot` and the stack to itself while it runs on them; `start_child` never
    // returns.
    let pid = unsafe {
        libc::clone(
            start_child::<F>,
            stack.top(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            std::ptr::addr_of_mut!(slot).cast(),
        )
    };
    if pid < 0 {
        return Err(Errno::last());
    }
    Ok(pid)
}

/// A process started by [`clone_shared`], with the stack and closure it runs on.
pub(crate) struct SharedChild<F> {
    pub pid: i32,
    _stack: ChildStack,
    _entry: Box<Option<F>>,
}

/// Start `child` in a new process that shares this one's memory and runs alongside it
/// (clone with CLONE_VM, plus `flags`: namespaces), on a stack of `stack_size` bytes. Unlike
/// a fork, nothing of this process is copied, so the clone costs the same whatever this
/// process holds. Should `child` return, the child exits with 125.
///
/// # Safety
///
/// Both processes use the same memory and the same thread-local storage (errno included),
/// with no lock between them:
/// - the returned value must be kept until the child has been reaped, and so must
///   everything `child` borrows;
/// - `child` must not allocate, take locks or unwind, and must leave the memory this process
///   uses alone; this process must not change what `child` reads while it runs;
/// - this process must be single-threaded.
pub(crate) unsafe fn clone_shared<F: FnOnce()>(
    flags: libc::c_int,
    stack_size: usize,
    child: F,
) -> Result<SharedChild<F>, Errno> {
    let stack = ChildStack::new(stack_size)?;
    let mut entry = Box::new(Some(child));
    let arg: *mut Option<F> = &mut *entry;
    // SAFETY: the stack and `entry` are kept in the returned value, which the caller keeps
    // until the child is gone; `start_child` never returns.
    let pid = unsafe {
        libc::clone(
            start_child::<F>,
            stack.top(),
            libc::CLONE_VM | flags,
            arg.cast(),
        )
    };
    if pid < 0 {
        return Err(Errno::last());
    }
    Ok(SharedChild {
        pid,
        _stack: stack,
        _entry: entry,
    })
}

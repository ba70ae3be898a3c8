//! Linux inode flags (`chattr`/`lsattr`): the one place custos issues `FS_IOC_GETFLAGS` and
//! `FS_IOC_SETFLAGS`. The ledger clears `FS_APPEND_FL` around its own torn-tail cut; footage's
//! `protect` sets `FS_IMMUTABLE_FL` on sealed segments and `FS_APPEND_FL` on the ledger's
//! files; the test kit reads and clears them. What the flags mean for custos is described in
//! custos-footage's `protect` module.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::errno::Errno;
use nix::libc;

/// `FS_IMMUTABLE_FL` of `<linux/fs.h>` (`chattr +i`).
pub const FS_IMMUTABLE_FL: libc::c_int = 0x0000_0010;
/// `FS_APPEND_FL` of `<linux/fs.h>` (`chattr +a`).
pub const FS_APPEND_FL: libc::c_int = 0x0000_0020;

/// Opens `path` for the flag ioctls: read-only, never following a symlink, never blocking
/// (what `chattr` does; the ioctls need no write access).
pub fn open_for_flags(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// The inode flags of the open file `f` (`FS_IOC_GETFLAGS`).
pub fn get(f: &File) -> Result<libc::c_int, Errno> {
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int (the kernel's type, whatever the ioctl number
    // says) through the pointer, which points at a live c_int.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) };
    Errno::result(r).map(|_| flags)
}

/// Sets the inode flags of the open file `f` (`FS_IOC_SETFLAGS`).
pub fn set(f: &File, flags: libc::c_int) -> Result<(), Errno> {
    // SAFETY: FS_IOC_SETFLAGS reads one int through the pointer, which points at a live c_int.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) };
    Errno::result(r).map(|_| ())
}

/// The inode flags of `path` (what `lsattr` shows).
pub fn of_path(path: &Path) -> std::io::Result<libc::c_int> {
    let f = open_for_flags(path)?;
    get(&f).map_err(std::io::Error::from)
}

/// Sets the inode flags of `path` (what `chattr` does).
pub fn set_path(path: &Path, flags: libc::c_int) -> std::io::Result<()> {
    let f = open_for_flags(path)?;
    set(&f, flags).map_err(std::io::Error::from)
}

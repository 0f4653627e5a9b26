//! The sentry: Palisade's userspace kernel.
#![deny(unsafe_code)]

pub mod confine;
pub mod errno;
pub mod fs;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod net;
pub mod sandbox;
pub mod strace;
pub mod syscalls;
pub mod vfs;

pub use kernel::Limits;
pub use net::stack::{NicConfig, NicInfo};
pub use sandbox::{
    boot, BootConfig, BootError, ContainerConfig, ContainerState, MountSpec, PlatformKind,
    ProcessSpec, Sandbox, Stdio,
};

//! The gofer serves the container's files to the sentry.
//!
//! The sentry never opens a host path: it asks the gofer over a unix SOCK_SEQPACKET socket to
//! walk, stat, list and open files, and the gofer answers with attributes and donated file
//! descriptors (SCM_RIGHTS). The server walks one component at a time with `O_NOFOLLOW` from
//! file descriptors it holds, never from paths, so nothing outside its root is reachable.

#![deny(unsafe_code)]

pub mod client;
pub mod confine;
pub mod proto;
pub mod server;
pub mod sock;

pub use client::Client;
pub use proto::{Attr, Dirent, Request, Response};

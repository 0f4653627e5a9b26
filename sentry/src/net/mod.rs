//! Networking. So far: unix domain sockets, the sentry's own.

pub mod unix;

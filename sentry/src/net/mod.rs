//! Networking: unix domain sockets, and the TCP/IP stack (smoltcp) with its inet sockets.

pub mod inet;
pub mod stack;
pub mod unix;

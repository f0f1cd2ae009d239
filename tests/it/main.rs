//! The one integration test binary. One module per area; `common` has the corpus gate and
//! the helpers that run the real binary.

mod architecture;
mod common;
mod diagnose;
mod diagnostics;
mod exchanges;
mod har;
mod logs;
mod output;
mod pcap;
mod proxy;
mod secrets;
mod timeline;
mod tokens;

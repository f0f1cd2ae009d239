//! The one integration test binary. One module per area; `common` has the corpus gate and
//! the helpers that run the real binary.

mod architecture;
mod common;
mod diagnose;
mod diagnostics;
mod exchanges;
mod fold;
mod har;
mod hostile;
mod logs;
mod output;
mod pcap;
mod proxy;
mod replay;
mod report;
mod sanitize;
mod secrets;
mod snapshots;
mod stats;
mod timeline;
mod tokens;

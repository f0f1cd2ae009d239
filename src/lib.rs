//! harken: reads captured HTTP traffic and explains, with evidence, why requests were refused.
//!
//! The pipeline: [`ingest`] (HAR, pcap/pcapng, proxy sessions, access logs) reads every input
//! into one [`model::Capture`] ([`progress`] on a terminal while it does); [`body`] and
//! [`token`] decode what was sent; [`timeline`] groups exchanges by conversation and tracks
//! their state; [`catalog`] knows what each endpoint requires; [`diagnose`] explains each
//! 401/403; [`stats`] aggregates; [`report`] renders it all; [`replay`] re-sends or serves it.
//!
//! The binary (`src/main.rs`) is a thin shell over [`cli`] and [`cmd`].

pub mod alloc;
pub mod analysis;
pub mod body;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod diagnose;
pub mod escape;
pub mod filter;
pub mod ingest;
pub mod intern;
pub mod keep;
pub mod model;
pub mod names;
pub mod parts;
pub mod progress;
pub mod recent;
pub mod redact;
pub mod region;
pub mod replay;
pub mod report;
pub mod rfc3339;
pub mod sanitize;
pub mod settings;
pub mod spill;
pub mod stats;
pub mod timeline;
pub mod token;

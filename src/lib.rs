//! harken: reads captured HTTP traffic and explains, with evidence, why requests were refused.
//!
//! The pipeline: [`ingest`] (HAR, pcap/pcapng, later proxy logs) reads every input into one
//! [`model::Capture`]; [`body`] and [`token`] decode what was sent; [`timeline`] groups
//! exchanges by conversation and tracks their state; [`catalog`] knows what each endpoint
//! requires; [`diagnose`] explains each 401/403; [`report`] renders it all.
//!
//! The binary (`src/main.rs`) is a thin shell over [`cli`] and [`cmd`].

pub mod analysis;
pub mod body;
pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod diagnose;
pub mod escape;
pub mod ingest;
pub mod keep;
pub mod model;
pub mod redact;
pub mod region;
pub mod replay;
pub mod report;
pub mod settings;
pub mod stats;
pub mod timeline;
pub mod token;

//! Ingest alone: read one file with a sink that counts and drops exchanges, one reader per
//! process so peak RSS is the reader's own (`harken exchanges` also keeps rows to sort them).
//!
//! `cargo bench --bench readers -- <harken|harken-nobodies|har> FILE`
//! `harken*` reads any format harken reads; `har` is the `har` crate (HAR only), kept as the
//! baseline for the HAR reader decision. benches/har.sh and benches/pcap.sh run it under
//! /usr/bin/time and print MB/s and peak memory.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let (Some(which), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: readers <harken|harken-nobodies|har> FILE");
        std::process::exit(2);
    };
    let path = PathBuf::from(path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64;
    let t = Instant::now();
    let (entries, statuses) = match which.as_str() {
        // The `har` crate: whole document into typed structs.
        "har" => match har::from_path(&path) {
            Ok(h) => match h.log {
                har::Spec::V1_2(log) => {
                    (log.entries.len(), log.entries.iter().filter(|e| e.response.status >= 400).count())
                }
                har::Spec::V1_3(log) => {
                    (log.entries.len(), log.entries.iter().filter(|e| e.response.status >= 400).count())
                }
            },
            Err(e) => {
                eprintln!("har crate failed: {e}");
                std::process::exit(1);
            }
        },
        // harken's streaming reader, keeping what `analyze` keeps, or no bodies (`exchanges`).
        "harken" | "harken-nobodies" => {
            use harken::ingest::{read_input, BodyPolicy, IngestOptions};
            let bodies = if which == "harken" { BodyPolicy::Analysis } else { BodyPolicy::None };
            let (mut n, mut bad) = (0usize, 0usize);
            let info = read_input(&path, 0, IngestOptions { bodies, ..Default::default() }, &mut |ex| {
                n += 1;
                bad += ex.status().is_some_and(|s| s >= 400) as usize;
            });
            if let Some(e) = info.error {
                eprintln!("{e}");
            }
            (n, bad)
        }
        other => {
            eprintln!("unknown reader {other}");
            std::process::exit(2);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    println!("{which}: {entries} entries ({statuses} >= 400) in {secs:.2} s = {:.0} MB/s", size / 1e6 / secs);
}

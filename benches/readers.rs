//! Ingest alone: read one file with a sink that counts and drops exchanges, one reader per
//! process so peak RSS is the reader's own (`harken exchanges` also keeps rows to sort them).
//!
//! `cargo bench --bench readers -- <harken|harken-nobodies|har|skim> FILE`
//! `harken*` reads any format harken reads; `har` is the `har` crate (HAR only), kept as the
//! baseline for the HAR reader decision; `skim` (HAR only) checks the document's JSON syntax
//! and keeps nothing, on one thread: what any reader built on serde_json pays before it keeps
//! a field. benches/har.sh and benches/pcap.sh run it under /usr/bin/time and print MB/s and
//! peak memory; benches/run.sh prints the `skim` row next to jq.

use std::path::PathBuf;
use std::time::Instant;

/// The allocator and settings of the `harken` binary (src/main.rs), so reading costs here what
/// it costs there: with the system allocator, freeing the exchanges took a fifth of the time.
#[global_allocator]
static GLOBAL: harken::alloc::Allocator = harken::alloc::Allocator;

fn main() {
    harken::alloc::init();
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let (Some(which), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: readers <harken|harken-nobodies|har|skim> FILE");
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
        // The floor of any serde_json reader: the whole document checked for syntax and
        // dropped (`IgnoredAny`), on one thread, from the mapped file, no field kept.
        "skim" => match std::fs::File::open(&path)
            // SAFETY: the map is read-only; a file truncated under it while mapped can fault,
            // as in harken's own reader (src/ingest/mod.rs).
            .and_then(|f| unsafe { memmap2::Mmap::map(&f) })
            .map(|b| serde_json::from_slice::<Skim>(&b))
        {
            Ok(Ok(doc)) => (doc.log.entries.0, 0),
            Ok(Err(e)) => {
                eprintln!("not JSON: {e}");
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
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

/// A HAR document checked for syntax only: the number of `log.entries`; every other member,
/// and every entry, skipped (`IgnoredAny`).
#[derive(serde::Deserialize)]
struct Skim {
    log: SkimLog,
}

#[derive(serde::Deserialize)]
struct SkimLog {
    entries: Counted,
}

/// The length of an array whose elements are skipped.
struct Counted(usize);

impl<'de> serde::Deserialize<'de> for Counted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<usize, A::Error> {
                let mut n = 0;
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(n)
            }
        }
        d.deserialize_seq(V).map(Counted)
    }
}

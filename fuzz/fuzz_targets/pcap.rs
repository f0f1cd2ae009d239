//! pcap and pcapng containers down to HTTP, then the whole analysis.
#![no_main]
use harken::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harken_fuzz::read_and_analyze(data, |src, cx| {
        let format = match harken::ingest::detect(src.bytes()) {
            Ok(Format::Pcapng) => Format::Pcapng,
            _ => Format::Pcap,
        };
        let _ = harken::ingest::pcap::read(src, format, cx);
    });
});

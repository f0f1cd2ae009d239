//! Burp Suite items XML, then the whole analysis.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harken_fuzz::read_and_analyze(data, |src, cx| {
        let _ = harken::ingest::burp::read(src, cx);
    });
});

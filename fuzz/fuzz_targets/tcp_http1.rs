//! TCP reassembly (gaps, retransmissions, reordering, FIN/RST) with HTTP/1 on top.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harken_fuzz::tcp_conversation(data, b"", b"");
});

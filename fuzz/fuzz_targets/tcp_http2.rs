//! HTTP/2 cleartext (frames, HPACK) over reassembled TCP: the client preface is sent first.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harken_fuzz::tcp_conversation(data, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"");
});

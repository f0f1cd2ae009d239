//! JWT/JWS/JWE decoding, token classification, JWKS parsing and signature checks, and the
//! header-level parsers that see credentials (URL masking, WWW-Authenticate).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let shape = harken::token::jwt::decode(s);
    let _ = harken::token::jwt::describe(&shape);
    let _ = harken::token::classify_token(s);
    let _ = harken::redact::mask_url(s);
    let _ = harken::diagnose::challenge(s);
    if let Ok(keys) = harken::token::jwt::Keys::parse(s) {
        if let Some((_, tok)) = s.split_once('\n') {
            let _ = keys.verify(tok);
        }
    }
});

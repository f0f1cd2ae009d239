//! Websocket frames (masking, fragmentation, permessage-deflate) after a captured upgrade.
#![no_main]
use libfuzzer_sys::fuzz_target;

const UPGRADE: &[u8] = b"GET /v1?deploymentId=x HTTP/1.1\r\nHost: webmessaging.mypurecloud.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
const SWITCHED: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    harken_fuzz::tcp_conversation(data, UPGRADE, SWITCHED);
});

//! pcap and pcapng: HTTP exchanges out of raw packets.
//!
//! FOUNDATION STUB: the pcap issue fills this in (containers, link types, IP, TCP reassembly,
//! HTTP/1.x, HTTP/2, websocket, TLS detection).

use super::{ReadCx, ReadError, Source};
use crate::model::Format;

pub fn read(_src: &Source, format: Format, _cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    Err(ReadError::new(format!("{format} input is not supported yet")))
}

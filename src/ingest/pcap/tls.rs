//! TLS detection: a connection whose client opens with a TLS ClientHello is reported (count and
//! SNI server names, see the `pcap.tls` note) and not parsed further. Decryption is out of scope.

/// Whether the bytes start a TLS handshake record carrying a ClientHello.
pub fn is_client_hello(b: &[u8]) -> bool {
    b.len() >= 6 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04 && b[5] == 0x01
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

/// The server name (SNI) of a ClientHello, when present in the first record.
pub fn sni(b: &[u8]) -> Option<String> {
    if !is_client_hello(b) {
        return None;
    }
    let rec_len = u16_at(b, 3)?;
    let rec = b.get(5..(5 + rec_len).min(b.len()))?;
    // Handshake header (4), client_version (2), random (32).
    let mut p = 4 + 2 + 32;
    let sid = usize::from(*rec.get(p)?);
    p += 1 + sid;
    let cs = u16_at(rec, p)?;
    p += 2 + cs;
    let comp = usize::from(*rec.get(p)?);
    p += 1 + comp;
    let ext_len = u16_at(rec, p)?;
    p += 2;
    let end = (p + ext_len).min(rec.len());
    while p + 4 <= end {
        let typ = u16_at(rec, p)?;
        let len = u16_at(rec, p + 2)?;
        let body = rec.get(p + 4..p + 4 + len)?;
        if typ == 0 {
            // server_name_list: list length (2), then entries of type (1), length (2), name.
            let mut q = 2;
            while q + 3 <= body.len() {
                let kind = body[q];
                let n = u16_at(body, q + 1)?;
                let name = body.get(q + 3..q + 3 + n)?;
                if kind == 0 {
                    return Some(String::from_utf8_lossy(name).into_owned());
                }
                q += 3 + n;
            }
            return None;
        }
        p += 4 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_is_read_from_a_client_hello() {
        let name = b"api.mypurecloud.com";
        let mut sni_ext = vec![0, 0];
        let list_len = (3 + name.len()) as u16;
        let ext_len = 2 + list_len;
        sni_ext.extend_from_slice(&ext_len.to_be_bytes());
        sni_ext.extend_from_slice(&list_len.to_be_bytes());
        sni_ext.push(0);
        sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni_ext.extend_from_slice(name);
        let mut hello = vec![0x03, 0x03];
        hello.extend_from_slice(&[0u8; 32]);
        hello.push(0); // session id
        hello.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
        hello.extend_from_slice(&[1, 0]); // null compression
        hello.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
        hello.extend_from_slice(&sni_ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(hello.len() as u16).to_be_bytes());
        hs.extend_from_slice(&hello);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        assert_eq!(sni(&rec).as_deref(), Some("api.mypurecloud.com"));
        for n in 0..rec.len() {
            let _ = sni(&rec[..n]);
        }
    }
}

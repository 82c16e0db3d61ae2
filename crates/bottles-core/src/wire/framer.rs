//! Splits one direction of the PostgreSQL protocol into messages as bytes go by, keeping only
//! the bodies the statement log reads, so a million-row COPY or result passes through uncopied.

/// A message: a type byte, a 4-byte big-endian length that counts itself, then the body.
const HEADER: usize = 5;

#[derive(Debug, Default)]
pub(crate) struct Framer {
    header: [u8; HEADER],
    header_len: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    keep: bool,
    body: Vec<u8>,
}

impl Framer {
    /// Consumes `bytes`; for each message completed, calls `on_message(kind, body)`, where `body`
    /// is empty unless `keep(kind)` asked for it.
    pub(crate) fn feed(
        &mut self,
        mut bytes: &[u8],
        keep: impl Fn(u8) -> bool,
        mut on_message: impl FnMut(u8, &[u8]),
    ) {
        while !bytes.is_empty() {
            if self.header_len < HEADER {
                let take = (HEADER - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + take]
                    .copy_from_slice(&bytes[..take]);
                self.header_len += take;
                bytes = &bytes[take..];
                if self.header_len == HEADER {
                    let length = u32::from_be_bytes(self.header[1..].try_into().expect("4 bytes"));
                    self.remaining = (length as usize).saturating_sub(4);
                    self.keep = keep(self.header[0]);
                    self.body.clear();
                }
            } else {
                let take = self.remaining.min(bytes.len());
                if self.keep {
                    self.body.extend_from_slice(&bytes[..take]);
                }
                self.remaining -= take;
                bytes = &bytes[take..];
            }
            if self.header_len == HEADER && self.remaining == 0 {
                self.header_len = 0;
                on_message(self.header[0], &self.body);
            }
        }
    }
}

impl Framer {
    /// How many of `bytes`, fed next, run through the end of the first message whose kind
    /// `ends` accepts; `None` when no such message ends within them. Changes nothing.
    pub(crate) fn through_next(&self, bytes: &[u8], ends: impl Fn(u8) -> bool) -> Option<usize> {
        let (mut header, mut header_len) = (self.header, self.header_len);
        let mut remaining = self.remaining;
        let mut at = 0;
        while at < bytes.len() {
            if header_len < HEADER {
                let take = (HEADER - header_len).min(bytes.len() - at);
                header[header_len..header_len + take].copy_from_slice(&bytes[at..at + take]);
                header_len += take;
                at += take;
                if header_len == HEADER {
                    let length = u32::from_be_bytes(header[1..].try_into().expect("4 bytes"));
                    remaining = (length as usize).saturating_sub(4);
                }
            } else {
                let take = remaining.min(bytes.len() - at);
                remaining -= take;
                at += take;
            }
            if header_len == HEADER && remaining == 0 {
                if ends(header[0]) {
                    return Some(at);
                }
                header_len = 0;
            }
        }
        None
    }

    /// Whether the next byte fed starts a message (and is its kind).
    pub(crate) fn at_message_start(&self) -> bool {
        self.header_len == 0
    }
}

/// Reads a message body: integers are big-endian, strings NUL-terminated. Every read of a
/// malformed body yields `None` instead of panicking.
pub(crate) struct Body<'a>(pub &'a [u8]);

impl<'a> Body<'a> {
    pub(crate) fn bytes(&mut self, count: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(count)?;
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    pub(crate) fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.bytes(2)?.try_into().ok()?))
    }

    pub(crate) fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.bytes(4)?.try_into().ok()?))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.bytes(4)?.try_into().ok()?))
    }

    pub(crate) fn cstr(&mut self) -> Option<&'a str> {
        let end = self.0.iter().position(|&b| b == 0)?;
        let text = std::str::from_utf8(&self.0[..end]).ok()?;
        self.0 = &self.0[end + 1..];
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn messages_split_across_reads_come_out_whole_and_unkept_bodies_are_skipped() {
        let stream = [
            message(b'Q', b"SELECT 1\0"),
            message(b'd', &[7; 1000]),
            message(b'S', b""),
        ]
        .concat();
        for chunk in [1, 2, 3, 7, 64, stream.len()] {
            let (mut framer, mut seen) = (Framer::default(), Vec::new());
            for piece in stream.chunks(chunk) {
                framer.feed(
                    piece,
                    |kind| kind != b'd',
                    |kind, body| seen.push((kind, body.to_vec())),
                );
            }
            assert_eq!(
                seen,
                [
                    (b'Q', b"SELECT 1\0".to_vec()),
                    (b'd', vec![]),
                    (b'S', vec![])
                ],
                "in chunks of {chunk}"
            );
        }
    }

    #[test]
    fn through_next_finds_where_a_message_of_a_kind_ends_even_mid_message() {
        let stream = [
            message(b'P', b"SELECT 1\0\0\0"),
            message(b'S', b""),
            message(b'Q', b"BEGIN\0"),
        ]
        .concat();
        let sync_end = message(b'P', b"SELECT 1\0\0\0").len() + 5;
        let framer = Framer::default();
        assert_eq!(framer.through_next(&stream, |k| k == b'S'), Some(sync_end));
        assert_eq!(framer.through_next(&stream, |k| k == b'Z'), None);
        // Part of the stream already fed: the count starts where the framer stands.
        let mut fed = Framer::default();
        fed.feed(&stream[..3], |_| false, |_, _| {});
        assert!(!fed.at_message_start());
        assert_eq!(
            fed.through_next(&stream[3..], |k| k == b'S'),
            Some(sync_end - 3)
        );
    }

    #[test]
    fn a_short_body_reads_as_none_not_a_panic() {
        let mut body = Body(&[0, 1]);
        assert_eq!(body.i32(), None);
        assert_eq!(Body(b"no terminator").cstr(), None);
        assert_eq!(Body(b"ab\0c").cstr(), Some("ab"));
    }
}

//! Reading the log back: every record is checked on the way out.
//!
//! A range read checks each record's frame (magic, version, length, crc), its
//! envelope (decodes, carries the seq of its key), contiguity (no gaps) and the
//! checksum chain (each record names its predecessor's crc). The first failure
//! is returned as a typed error and the iterator then ends.

use crate::backend::{Backend, RawRecords};
use crate::codec;
use crate::error::{Error, Result};
use crate::frame;
use crate::types::{Event, Seq};

/// Decode and check one stored record against the seq of its key.
/// Returns the event and the frame's crc and chain.
pub(crate) fn decode_record(seq: Seq, bytes: &[u8]) -> Result<(Event, u32, u32)> {
    let frame =
        frame::decode_exact(bytes).map_err(|source| Error::CorruptRecord { seq, source })?;
    let event = codec::decode_event(frame.payload)
        .map_err(|source| Error::CorruptEnvelope { seq, source })?;
    if event.seq != seq {
        return Err(Error::SeqMismatch {
            key: seq,
            found: event.seq,
        });
    }
    Ok((event, frame.crc, frame.chain))
}

/// Events of a seq range, in order, each checked.
pub struct Records<'a> {
    raw: RawRecords<'a>,
    expected: Seq,
    end: Seq,
    /// The predecessor's crc, when known (always, when reading from seq 1).
    prev_crc: Option<u32>,
    done: bool,
}

impl<'a> Records<'a> {
    pub(crate) fn new(backend: &'a dyn Backend, from: Seq, to: Seq) -> Result<Self> {
        let from = from.max(Seq::FIRST);
        Ok(Self {
            raw: backend.scan(from, to)?,
            expected: from,
            end: to,
            prev_crc: (from == Seq::FIRST).then_some(0),
            done: from > to,
        })
    }

    /// The seq the next record must carry.
    pub fn expected(&self) -> Seq {
        self.expected
    }

    fn check(&mut self, seq: Seq, bytes: &[u8]) -> Result<Event> {
        if seq != self.expected {
            return Err(Error::Gap {
                expected: self.expected,
                found: seq,
            });
        }
        let (event, crc, chain) = decode_record(seq, bytes)?;
        if let Some(expected) = self.prev_crc
            && chain != expected
        {
            return Err(Error::ChainMismatch {
                seq,
                expected,
                found: chain,
            });
        }
        self.prev_crc = Some(crc);
        self.expected = seq.next();
        Ok(event)
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.raw.next() {
            None => {
                self.done = true;
                return None;
            }
            Some(Err(e)) => Err(e),
            Some(Ok((seq, bytes))) => self.check(seq, &bytes),
        };
        if item.is_err() || self.expected > self.end {
            self.done = true;
        }
        Some(item)
    }
}

/// The events of one stream from a seq, in order, each checked.
pub struct StreamRecords<'a> {
    backend: &'a dyn Backend,
    stream: String,
    seqs: Box<dyn Iterator<Item = Result<Seq>> + Send + 'a>,
    done: bool,
}

impl<'a> StreamRecords<'a> {
    pub(crate) fn new(backend: &'a dyn Backend, stream: &str, from: Seq) -> Result<Self> {
        Ok(Self {
            backend,
            stream: stream.to_owned(),
            seqs: backend.stream_seqs(stream, from)?,
            done: false,
        })
    }

    fn load(&self, seq: Seq) -> Result<Event> {
        let bytes = self.backend.get(seq)?.ok_or_else(|| Error::IndexMismatch {
            stream: self.stream.clone(),
            seq,
        })?;
        let (event, _, _) = decode_record(seq, &bytes)?;
        if event.stream != self.stream {
            return Err(Error::IndexMismatch {
                stream: self.stream.clone(),
                seq,
            });
        }
        Ok(event)
    }
}

impl Iterator for StreamRecords<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.seqs.next()? {
            Ok(seq) => self.load(seq),
            Err(e) => Err(e),
        };
        self.done = item.is_err();
        Some(item)
    }
}

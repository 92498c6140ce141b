//! Reading the log back: every record is checked on the way out.
//!
//! A range read checks each record's frame (magic, version, length, crc), its
//! envelope (decodes, carries the seq of its key), contiguity (no gaps) and the
//! checksum chain (each record names its predecessor's crc). The first failure
//! is returned as a typed error and the iterator then ends.

use crate::trim::LogBase;
use std::ops::ControlFlow;

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

/// The checks a range read applies to each record in turn: contiguity, the
/// record itself ([`decode_record`]) and the checksum chain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checker {
    /// The seq the next record must carry.
    pub(crate) expected: Seq,
    /// The predecessor's crc, when known (always, when reading from the
    /// log's first seq: 0 before seq 1, the base's crc after a trim).
    prev_crc: Option<u32>,
}

impl Checker {
    /// A check of records from `from`, in a log that begins after `base`
    /// (or at seq 1).
    pub(crate) fn new(from: Seq, base: Option<LogBase>) -> Self {
        let from = from.max(Seq::FIRST);
        let prev_crc = match base {
            None => (from == Seq::FIRST).then_some(0),
            Some(base) => (from == base.first()).then_some(base.chain),
        };
        Self {
            expected: from,
            prev_crc,
        }
    }

    /// Check the record stored under `seq`; returns its event and crc.
    pub(crate) fn check(&mut self, seq: Seq, bytes: &[u8]) -> Result<(Event, u32)> {
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
        Ok((event, crc))
    }
}

/// Events of a seq range, in order, each checked.
pub struct Records<'a> {
    raw: RawRecords<'a>,
    checker: Checker,
    end: Seq,
    done: bool,
}

impl<'a> Records<'a> {
    pub(crate) fn new(
        backend: &'a dyn Backend,
        from: Seq,
        to: Seq,
        base: Option<LogBase>,
    ) -> Result<Self> {
        let checker = Checker::new(from, base);
        Ok(Self {
            raw: backend.scan(checker.expected, to)?,
            checker,
            end: to,
            done: checker.expected > to,
        })
    }

    /// The seq the next record must carry.
    pub fn expected(&self) -> Seq {
        self.checker.expected
    }
}

/// Visit the events with `from <= seq <= to` in order, each checked as by
/// [`Records`], without copying stored bytes. Returns the seq after the last
/// event visited.
pub(crate) fn for_each_event<E: From<Error>>(
    backend: &dyn Backend,
    from: Seq,
    to: Seq,
    base: Option<LogBase>,
    visit: &mut dyn FnMut(Event) -> std::result::Result<(), E>,
) -> std::result::Result<Seq, E> {
    let mut checker = Checker::new(from, base);
    let mut failure: Option<E> = None;
    backend.scan_with(checker.expected, to, &mut |seq, bytes| {
        let outcome = checker
            .check(seq, bytes)
            .map_err(E::from)
            .and_then(|(event, _)| visit(event));
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok(checker.expected),
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
            Some(Ok((seq, bytes))) => self.checker.check(seq, &bytes).map(|(event, _)| event),
        };
        if item.is_err() || self.checker.expected > self.end {
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
    /// The events at `seqs`, which the stream index says are `stream`'s.
    pub(crate) fn new(
        backend: &'a dyn Backend,
        stream: &str,
        seqs: Box<dyn Iterator<Item = Result<Seq>> + Send + 'a>,
    ) -> Self {
        Self {
            backend,
            stream: stream.to_owned(),
            seqs,
            done: false,
        }
    }

    fn load(&self, seq: Seq) -> Result<Event> {
        load_indexed(self.backend, &self.stream, seq)
    }
}

/// The event at `seq`, which the stream index lists under `stream`: checked
/// as any record, and refused ([`Error::IndexMismatch`]) when it is missing
/// or belongs to another stream.
pub(crate) fn load_indexed(backend: &dyn Backend, stream: &str, seq: Seq) -> Result<Event> {
    let mismatch = || Error::IndexMismatch {
        stream: stream.to_owned(),
        seq,
    };
    let bytes = backend.get(seq)?.ok_or_else(mismatch)?;
    let (event, _, _) = decode_record(seq, &bytes)?;
    if event.stream != stream {
        return Err(mismatch());
    }
    Ok(event)
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

//! Reading an export file (or an archive segment): its frames one by
//! one, each checked, with the offset of the one that fails.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::PathBuf;

use crate::codec;
use crate::error::{Error, ExportDefect, Result};
use crate::frame::{self, FrameError, HEADER_LEN};
use crate::log::FORMAT_VERSION;
use crate::staging::io;
use crate::types::Seq;

use super::{EXPORT_MAGIC, EXPORT_V1, EXPORT_VERSION, ExportHeader, ExportHeaderV2, VersionProbe};

/// Reads frames from an export file, tracking where each starts.
pub(super) struct ExportReader {
    pub(super) file: BufReader<File>,
    pub(super) path: PathBuf,
    /// Offset of the next byte to read.
    pub(super) offset: u64,
    /// Offset where the frame being read starts.
    pub(super) frame_start: u64,
    /// The last record that checked out.
    pub(super) last_good_seq: Seq,
    pub(super) buf: Vec<u8>,
}

impl ExportReader {
    /// A reader of `file` (at `path`), at its start.
    pub(super) fn new(file: BufReader<File>, path: PathBuf) -> Self {
        Self {
            file,
            path,
            offset: 0,
            frame_start: 0,
            last_good_seq: Seq(0),
            buf: Vec::new(),
        }
    }

    pub(super) fn defect(&self, defect: ExportDefect) -> Error {
        Error::BadExport {
            offset: self.frame_start,
            last_good_seq: self.last_good_seq,
            defect,
        }
    }

    /// Fill `self.buf[from..]`; a short file is [`ExportDefect::Truncated`].
    pub(super) fn fill(&mut self, from: usize) -> Result<()> {
        let Some(dest) = self.buf.get_mut(from..) else {
            return Ok(());
        };
        match self.file.read_exact(dest) {
            Ok(()) => {
                self.offset += dest.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                Err(self.defect(ExportDefect::Truncated))
            }
            Err(e) => Err(io("read", &self.path)(e)),
        }
    }

    pub(super) fn read_magic(&mut self) -> Result<()> {
        self.buf.clear();
        self.buf.resize(EXPORT_MAGIC.len(), 0);
        self.fill(0)?;
        if self.buf != EXPORT_MAGIC {
            return Err(self.defect(ExportDefect::BadMagic));
        }
        Ok(())
    }

    /// Read one whole frame into `self.buf` and check it; returns its chain
    /// and crc.
    pub(super) fn read_frame(&mut self) -> Result<(u32, u32)> {
        self.frame_start = self.offset;
        self.buf.clear();
        self.buf.resize(HEADER_LEN, 0);
        self.fill(0)?;
        // The header alone says how long the frame is (and is checked for
        // magic, version, flags and the length bound before any allocation).
        match frame::decode_prefix(&self.buf) {
            Err(FrameError::Incomplete { needed, .. }) if needed > HEADER_LEN => {
                self.buf.resize(needed, 0);
                self.fill(HEADER_LEN)?;
            }
            Err(e) => return Err(self.defect(ExportDefect::Frame(e))),
            Ok(_) => {}
        }
        let frame = frame::decode_exact(&self.buf).map_err(|e| Error::BadExport {
            offset: self.frame_start,
            last_good_seq: self.last_good_seq,
            defect: ExportDefect::Frame(e),
        })?;
        Ok((frame.chain, frame.crc))
    }

    pub(super) fn payload(&self) -> &[u8] {
        self.buf.get(HEADER_LEN..).unwrap_or_default()
    }

    /// True when the file has no byte left.
    pub(super) fn at_end(&mut self) -> Result<bool> {
        let mut probe = [0u8; 1];
        loop {
            match self.file.read(&mut probe) {
                Ok(n) => return Ok(n == 0),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io("read", &self.path)(e)),
            }
        }
    }
}

/// The header of either version, as version 2 says it.
pub(super) fn read_header(reader: &mut ExportReader) -> Result<ExportHeaderV2> {
    reader.read_frame()?;
    let probe: VersionProbe =
        codec::decode_prefix(reader.payload()).map_err(|_| reader.defect(ExportDefect::Header))?;
    let header = match probe.export_version {
        EXPORT_V1 => {
            let v1: ExportHeader = codec::decode_exact(reader.payload())
                .map_err(|_| reader.defect(ExportDefect::Header))?;
            ExportHeaderV2 {
                export_version: v1.export_version,
                log_format: v1.log_format,
                first_seq: Seq::FIRST,
                records: v1.records,
                prev_crc: 0,
                base: Vec::new(),
            }
        }
        EXPORT_VERSION => codec::decode_exact(reader.payload())
            .map_err(|_| reader.defect(ExportDefect::Header))?,
        export => {
            return Err(reader.defect(ExportDefect::Version { export, log: 0 }));
        }
    };
    // Data-directory formats 1 to 3 read records alike: they differ in how
    // the stream index is stored and whether a base exists, which the
    // export carries itself.
    if !(1..=FORMAT_VERSION).contains(&header.log_format) || header.first_seq < Seq::FIRST {
        return Err(reader.defect(ExportDefect::Version {
            export: header.export_version,
            log: header.log_format,
        }));
    }
    Ok(header)
}

//! How bead outputs are shown by `status`, `run`, `runs` and the socket:
//! text when UTF-8, base64 otherwise, cut for display (`strand output`
//! prints one whole and raw).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use strand_projections::{Output, RunRecord};

/// Bytes of an output shown before it is cut.
pub const SHOWN_BYTES: usize = 4096;

/// How the shown `data` is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The output is UTF-8 text; `data` is (a prefix of) it.
    Utf8,
    /// The output is binary; `data` is (a prefix of) it in base64.
    Base64,
}

/// An output as shown: `data` cut to [`SHOWN_BYTES`] (at a character
/// boundary for text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownOutput {
    /// The producer's media type, if any.
    pub content_type: Option<String>,
    /// The whole output's size in bytes.
    pub size: usize,
    /// How `data` is encoded.
    pub encoding: Encoding,
    /// The shown prefix.
    pub data: String,
    /// Whether `data` is only a prefix.
    pub truncated: bool,
}

impl ShownOutput {
    /// How `output` is shown.
    pub fn of(output: &Output) -> Self {
        let size = output.bytes.len();
        let (encoding, data, truncated) = if let Some(text) = output.as_text() {
            let cut = cut_text(text, SHOWN_BYTES);
            (Encoding::Utf8, cut.to_owned(), cut.len() < text.len())
        } else {
            let shown = output
                .bytes
                .get(..size.min(SHOWN_BYTES))
                .unwrap_or_default();
            (Encoding::Base64, BASE64.encode(shown), shown.len() < size)
        };
        Self {
            content_type: output.content_type.clone(),
            size,
            encoding,
            data,
            truncated,
        }
    }

    /// One line of it, for a table: the text's first line cut to `width`
    /// (marked `…` when there is more), or its size when it is not text.
    pub fn cell(&self, width: usize) -> String {
        match self.encoding {
            Encoding::Utf8 => {
                let line = self.data.lines().next().unwrap_or_default();
                let cut = cut_text(line, width);
                if self.truncated || cut.len() < self.data.trim_end().len() {
                    format!("{cut}…")
                } else {
                    cut.to_owned()
                }
            }
            Encoding::Base64 => format!("<{} bytes>", self.size),
        }
    }
}

/// The leaf beads' outputs (beads no other bead depends on): a run's
/// final outputs, by bead id.
pub fn final_outputs(record: &RunRecord) -> BTreeMap<String, ShownOutput> {
    record
        .dag()
        .leaves()
        .into_iter()
        .filter_map(|leaf| {
            let output = record.bead(&leaf)?.output.as_deref()?;
            Some((leaf.into_string(), ShownOutput::of(output)))
        })
        .collect()
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
fn cut_text(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_long_text_when_shown_then_it_is_cut_on_a_character_boundary_and_marked() {
        let text = "é".repeat(SHOWN_BYTES);
        let shown = ShownOutput::of(&Output::text(text));
        assert!(shown.truncated);
        assert_eq!(shown.size, SHOWN_BYTES * 2);
        assert_eq!(shown.data.len(), SHOWN_BYTES);
        assert!(shown.cell(8).ends_with('…'));
    }

    #[test]
    fn given_binary_output_when_shown_then_it_is_base64() {
        let shown = ShownOutput::of(&Output::bytes(vec![0xff, 0xfe]));
        assert_eq!(shown.encoding, Encoding::Base64);
        assert_eq!(shown.data, "//4=");
        assert!(!shown.truncated);
        assert_eq!(shown.cell(30), "<2 bytes>");
    }

    #[test]
    fn given_one_short_line_when_shown_in_a_cell_then_it_is_whole() {
        let shown = ShownOutput::of(&Output::text("done\n"));
        assert_eq!(shown.cell(30), "done");
        let json = serde_json::to_value(&shown).unwrap();
        assert_eq!(json["encoding"], "utf8");
    }
}

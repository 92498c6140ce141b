//! How bead outputs are shown by `status`, `run` and `runs`: text when
//! UTF-8, base64 otherwise, cut for display (`strand output` prints one
//! whole and raw).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;
use strand_projections::{Output, RunRecord};

/// Bytes of an output shown before it is cut.
pub const SHOWN_BYTES: usize = 4096;

/// `{ content_type, size, encoding, data, truncated }`, `data` cut to
/// [`SHOWN_BYTES`] (at a character boundary for text).
pub fn output_json(output: &Output) -> serde_json::Value {
    let size = output.bytes.len();
    let (encoding, data, truncated) = if let Some(text) = output.as_text() {
        let cut = cut_text(text, SHOWN_BYTES);
        ("utf8", cut.to_owned(), cut.len() < text.len())
    } else {
        let shown = output
            .bytes
            .get(..size.min(SHOWN_BYTES))
            .unwrap_or_default();
        ("base64", BASE64.encode(shown), shown.len() < size)
    };
    json!({
        "content_type": output.content_type,
        "size": size,
        "encoding": encoding,
        "data": data,
        "truncated": truncated,
    })
}

/// One line of an output, for a table: its text's first line cut to
/// `width`, or its size when it is not text.
pub fn output_cell(output: Option<&Output>, width: usize) -> String {
    let Some(output) = output else {
        return String::new();
    };
    match output.as_text() {
        Some(text) => {
            let line = text.lines().next().unwrap_or_default();
            let cut = cut_text(line, width);
            if cut.len() < text.trim_end().len() {
                format!("{cut}…")
            } else {
                cut.to_owned()
            }
        }
        None => format!("<{} bytes>", output.bytes.len()),
    }
}

/// The leaf beads' outputs (beads no other bead depends on): a run's
/// final outputs, by bead id.
pub fn final_outputs(record: &RunRecord) -> serde_json::Map<String, serde_json::Value> {
    record
        .dag()
        .leaves()
        .into_iter()
        .filter_map(|leaf| {
            let output = record.bead(&leaf)?.output.as_deref()?;
            Some((leaf.into_string(), output_json(output)))
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
        let shown = output_json(&Output::text(text));
        assert_eq!(shown["truncated"], true);
        assert_eq!(shown["size"], SHOWN_BYTES * 2);
        assert_eq!(shown["data"].as_str().map(str::len), Some(SHOWN_BYTES));
    }

    #[test]
    fn given_binary_output_when_shown_then_it_is_base64() {
        let shown = output_json(&Output::bytes(vec![0xff, 0xfe]));
        assert_eq!(shown["encoding"], "base64");
        assert_eq!(shown["data"], "//4=");
        assert_eq!(shown["truncated"], false);
    }
}

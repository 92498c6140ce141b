//! [`Output`]: what a bead produced, as recorded in the log and passed to
//! its dependents.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The content type of UTF-8 text (a shell task's stdout, a handler's string).
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// The content type of a JSON document (a handler's `Serialize` value).
pub const APPLICATION_JSON: &str = "application/json";

/// A bead's output: bytes and, when known, their content type.
///
/// In the log (bincode) it is `bytes` then `content_type`. In JSON (status,
/// `log dump`, the run outcome) it shows as
/// `{ content_type, size, encoding, data }`, `data` being the bytes as text
/// when they are UTF-8 (`encoding: "utf8"`) and base64 otherwise.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Output {
    /// The bytes, exactly as produced.
    pub bytes: Vec<u8>,
    /// Their media type, if the producer said (or it is text or JSON).
    pub content_type: Option<String>,
}

impl Output {
    /// UTF-8 text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            bytes: text.into().into_bytes(),
            content_type: Some(TEXT_PLAIN.to_owned()),
        }
    }

    /// Bytes of no declared type.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            content_type: None,
        }
    }

    /// A JSON document.
    ///
    /// # Errors
    ///
    /// The value does not serialize to JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            bytes: serde_json::to_vec(value)?,
            content_type: Some(APPLICATION_JSON.to_owned()),
        })
    }

    /// The bytes as text, when they are UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// How many bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Output");
        match self.as_text() {
            Some(text) => out.field("text", &text),
            None => out.field("bytes", &self.bytes.len()),
        };
        out.field("content_type", &self.content_type).finish()
    }
}

/// The log's form: the bytes as one length-prefixed run, then the type.
#[derive(Serialize, Deserialize)]
struct Binary {
    #[serde(with = "serde_bytes")]
    bytes: Vec<u8>,
    content_type: Option<String>,
}

/// The readable form's encodings of `data`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Encoding {
    Utf8,
    Base64,
}

/// The readable form, decoded.
#[derive(Deserialize)]
struct Readable {
    content_type: Option<String>,
    encoding: Encoding,
    data: String,
}

impl Serialize for Output {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            return Binary {
                bytes: self.bytes.clone(),
                content_type: self.content_type.clone(),
            }
            .serialize(serializer);
        }
        let (encoding, data) = match self.as_text() {
            Some(text) => (Encoding::Utf8, text.to_owned()),
            None => (Encoding::Base64, BASE64.encode(&self.bytes)),
        };
        let mut out = serializer.serialize_struct("Output", 4)?;
        out.serialize_field("content_type", &self.content_type)?;
        out.serialize_field("size", &self.bytes.len())?;
        out.serialize_field("encoding", &encoding)?;
        out.serialize_field("data", &data)?;
        out.end()
    }
}

impl<'de> Deserialize<'de> for Output {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            let Binary {
                bytes,
                content_type,
            } = Binary::deserialize(deserializer)?;
            return Ok(Self {
                bytes,
                content_type,
            });
        }
        let Readable {
            content_type,
            encoding,
            data,
        } = Readable::deserialize(deserializer)?;
        let bytes = match encoding {
            Encoding::Utf8 => data.into_bytes(),
            Encoding::Base64 => BASE64.decode(data).map_err(serde::de::Error::custom)?,
        };
        Ok(Self {
            bytes,
            content_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_text_when_shown_as_json_then_it_is_readable_and_round_trips() {
        let output = Output::text("hello");
        let json = serde_json::to_value(&output).unwrap();
        assert_eq!(json["encoding"], "utf8");
        assert_eq!(json["data"], "hello");
        assert_eq!(json["size"], 5);
        assert_eq!(serde_json::from_value::<Output>(json).unwrap(), output);
    }

    #[test]
    fn given_binary_bytes_when_shown_as_json_then_they_are_base64_and_round_trip() {
        let output = Output::bytes(vec![0xff, 0x00, 0xfe]);
        let json = serde_json::to_value(&output).unwrap();
        assert_eq!(json["encoding"], "base64");
        assert_eq!(serde_json::from_value::<Output>(json).unwrap(), output);
    }
}

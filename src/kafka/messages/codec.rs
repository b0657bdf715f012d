//! How record keys, values and header values are shown and written (pure): decoded as a
//! string (invalid UTF-8 escaped as `\xNN`), JSON, hex, base64 or raw bytes, and the bytes
//! a given value is written as.

use crate::error::{Error, Result};
use base64::Engine;
use serde_json::Value;
use std::borrow::Cow;

/// How bytes of a record are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 text; bytes that are not UTF-8 are escaped as `\xNN` (and `\` as `\\`).
    #[default]
    String,
    /// Parsed JSON (a record that is not JSON is an error naming it).
    Json,
    /// Lowercase hexadecimal.
    Hex,
    /// Standard base64 with padding.
    Base64,
    /// The raw bytes, as a list of numbers 0-255.
    Bytes,
}

impl Encoding {
    /// Parses "string", "json", "hex", "base64" or "bytes".
    pub fn parse(text: &str) -> Result<Encoding> {
        match text.trim().to_ascii_lowercase().as_str() {
            "string" | "str" | "text" => Ok(Encoding::String),
            "json" => Ok(Encoding::Json),
            "hex" => Ok(Encoding::Hex),
            "base64" => Ok(Encoding::Base64),
            "bytes" | "raw" => Ok(Encoding::Bytes),
            other => Err(Error::InvalidInput(format!(
                "unknown encoding {other:?} (string, json, hex, base64 or bytes)"
            ))),
        }
    }

    /// Shows `bytes` in this encoding; `None` (a null key or value) is `Value::Null`.
    pub fn decode(self, bytes: Option<&[u8]>) -> std::result::Result<Value, String> {
        let Some(bytes) = bytes else {
            return Ok(Value::Null);
        };
        Ok(match self {
            Encoding::String => Value::String(escaped_text(bytes)),
            Encoding::Json => serde_json::from_slice(bytes)
                .map_err(|e| format!("is not JSON ({e}): {}", shorten(&escaped_text(bytes), 60)))?,
            Encoding::Hex => Value::String(to_hex(bytes)),
            Encoding::Base64 => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Encoding::Bytes => Value::Array(bytes.iter().map(|b| Value::from(*b)).collect()),
        })
    }

    /// `bytes` as one line of text in this encoding (`tail`'s output): strings as they are
    /// (borrowed when they need no escape), JSON compact, `null` for none.
    pub fn show(self, bytes: Option<&[u8]>) -> std::result::Result<Cow<'_, str>, String> {
        match (self, bytes) {
            (_, None) => Ok(Cow::Borrowed("null")),
            (Encoding::String, Some(bytes)) => Ok(text_of(bytes)),
            (_, bytes) => Ok(match self.decode(bytes)? {
                Value::String(s) => Cow::Owned(s),
                other => Cow::Owned(other.to_string()),
            }),
        }
    }

    /// The bytes a text given in this encoding stands for (produce): a string as its UTF-8,
    /// JSON text checked, hex and base64 decoded.
    pub fn encode_text(self, text: &str) -> Result<Vec<u8>> {
        match self {
            Encoding::String | Encoding::Bytes => Ok(text.as_bytes().to_vec()),
            Encoding::Json => {
                serde_json::from_str::<Value>(text)
                    .map_err(|e| Error::InvalidInput(format!("value is not JSON ({e})")))?;
                Ok(text.as_bytes().to_vec())
            }
            Encoding::Hex => from_hex(text),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| Error::InvalidInput(format!("value is not base64 ({e})"))),
        }
    }
}

/// UTF-8 text with every byte that is not valid UTF-8 written `\xNN`, and `\` written `\\`
/// so that the escapes cannot be mistaken for text.
pub fn escaped_text(bytes: &[u8]) -> String {
    text_of(bytes).into_owned()
}

/// [`escaped_text`], borrowing `bytes` when they are UTF-8 without a backslash.
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.contains('\\') {
            return Cow::Borrowed(text);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    Cow::Owned(out)
}

/// Reverses [`escaped_text`].
pub fn unescape_text(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') if bytes.len() >= i + 4 => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap_or("");
                    let b = u8::from_str_radix(hex, 16).map_err(|_| {
                        Error::InvalidInput(format!("bad escape \\x{hex} in {text:?}"))
                    })?;
                    out.push(b);
                    i += 4;
                }
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "a lone backslash at byte {i} of {text:?} (write \\\\)"
                    )))
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Lowercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Bytes of a hex string (whitespace ignored).
pub fn from_hex(text: &str) -> Result<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(Error::InvalidInput(format!(
            "hex value has an odd number of digits: {}",
            shorten(text, 40)
        )));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| {
                    Error::InvalidInput(format!("not a hex value: {}", shorten(text, 40)))
                })
        })
        .collect()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shown_as_a_line_of_text() {
        let show = |e: Encoding, b: Option<&[u8]>| e.show(b).unwrap().into_owned();
        assert!(matches!(
            Encoding::String.show(Some(b"plain")),
            Ok(Cow::Borrowed("plain"))
        ));
        assert_eq!(show(Encoding::String, Some(b"a\xffb\\")), "a\\xffb\\\\");
        assert_eq!(show(Encoding::String, None), "null");
        assert_eq!(
            show(Encoding::Json, Some(br#"{"a": [1, "x"]}"#)),
            r#"{"a":[1,"x"]}"#
        );
        assert_eq!(show(Encoding::Json, Some(br#""quoted""#)), "quoted");
        assert_eq!(show(Encoding::Hex, Some(b"\x01\xab")), "01ab");
        assert_eq!(show(Encoding::Base64, Some(b"hi")), "aGk=");
        assert_eq!(show(Encoding::Bytes, Some(b"\x01\x02")), "[1,2]");
        assert!(Encoding::Json.show(Some(b"not json")).is_err());
    }

    #[test]
    fn invalid_utf8_is_escaped_and_valid_text_kept() {
        assert_eq!(escaped_text(b"plain"), "plain");
        assert_eq!(escaped_text(b"caf\xc3\xa9"), "café");
        assert_eq!(escaped_text(b"a\xffb\\"), "a\\xffb\\\\");
        assert_eq!(
            Encoding::String.decode(Some(b"\x00\x01")).unwrap(),
            Value::String("\u{0}\u{1}".into())
        );
    }

    #[test]
    fn encodings_show_bytes() {
        let b: &[u8] = &[0xde, 0xad, 0x00, 0x41];
        assert_eq!(Encoding::Hex.decode(Some(b)).unwrap(), "dead0041");
        assert_eq!(Encoding::Base64.decode(Some(b)).unwrap(), "3q0AQQ==");
        assert_eq!(
            Encoding::Bytes.decode(Some(b)).unwrap(),
            serde_json::json!([222, 173, 0, 65])
        );
        assert_eq!(
            Encoding::Json.decode(Some(br#"{"id": 7}"#)).unwrap(),
            serde_json::json!({"id": 7})
        );
        assert_eq!(Encoding::Json.decode(None).unwrap(), Value::Null);
        let bad = Encoding::Json.decode(Some(b"not json")).unwrap_err();
        assert!(bad.contains("not JSON"), "{bad}");
        assert!(Encoding::parse("yaml").is_err());
        assert_eq!(Encoding::parse("HEX").unwrap(), Encoding::Hex);
    }

    #[test]
    fn texts_are_encoded_for_produce() {
        assert_eq!(
            Encoding::Hex.encode_text("dead 0041").unwrap(),
            vec![0xde, 0xad, 0, 0x41]
        );
        assert!(Encoding::Hex.encode_text("abc").is_err());
        assert_eq!(
            Encoding::Base64.encode_text("3q0AQQ==").unwrap(),
            vec![0xde, 0xad, 0, 0x41]
        );
        assert!(Encoding::Json.encode_text("{oops").is_err());
    }

    proptest! {
        #[test]
        fn every_encoding_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let hex = Encoding::Hex.decode(Some(&bytes)).unwrap();
            prop_assert_eq!(Encoding::Hex.encode_text(hex.as_str().unwrap()).unwrap(), bytes.clone());
            let b64 = Encoding::Base64.decode(Some(&bytes)).unwrap();
            prop_assert_eq!(Encoding::Base64.encode_text(b64.as_str().unwrap()).unwrap(), bytes.clone());
            let text = escaped_text(&bytes);
            prop_assert_eq!(unescape_text(&text).unwrap(), bytes.clone());
        }
    }
}

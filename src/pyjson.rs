//! JSON as Python's `json.dumps` writes it with its defaults: `", "` and `": "` separators, and
//! every non-ASCII character escaped as lowercase `\uXXXX` (`ensure_ascii`). botocore writes the
//! SSO and `aws login` token cache files this way, and credd writes them back the same way, so a
//! file reads byte for byte as botocore's own would. One leaf, because the two rooms that write
//! such files may not import each other.

use std::io::{self, Write};

/// `json.dumps(value)`, in the value's own key order.
pub fn dumps(value: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonJson);
    value.serialize(&mut ser).expect("a JSON value serializes");
    out
}

struct PythonJson;

impl serde_json::ser::Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn separators_and_escapes_are_pythons() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": [1, 2], "a": "é😀\n"}"#).unwrap();
        assert_eq!(
            String::from_utf8(super::dumps(&v)).unwrap(),
            r#"{"b": [1, 2], "a": "\u00e9\ud83d\ude00\n"}"#
        );
    }
}

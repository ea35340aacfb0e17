//! The configuration items of a file, read a piece at a time: a Config
//! snapshot or history file (`{"configurationItems": [...]}`), a JSON
//! array of items, or one item, plain or gzip-compressed. Only a window of the file is in
//! memory (it grows only for a single value larger than it), so a file of a
//! million items is read in the memory of a few. This module walks the
//! punctuation between values and parses them with serde_json, except the
//! items: an item is found by its braces alone (strings skipped), and
//! serde_json parses it whole when it is read (every caller parses every
//! item it is handed: `inputs::read_items` decodes each; the snapshot's first
//! pass reads each item's resource and time, and its second decodes every
//! item whose resource and time could not be read).

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::CliError;

/// How much of the file is read at a time.
const WINDOW: usize = 4 << 20;

/// Where the walk is in the file's structure.
#[derive(Debug, Clone, Copy)]
enum State {
    Start,
    /// In the top-level object's members (`first`: none read yet).
    Members {
        first: bool,
    },
    /// In the list of items (`in_object`: the list of `configurationItems`).
    Items {
        next: usize,
        first: bool,
        in_object: bool,
    },
    End,
}

/// The configuration items of one file, read one at a time: a Config
/// snapshot or history file (`configurationItems`), a JSON array of
/// items, or one item. The file is checked to be JSON of one of those
/// shapes as it is read (each item's content when the caller parses it); an
/// error names the file and the byte it was found near.
pub struct ItemReader {
    walk: Walk,
    state: State,
    /// Members seen in the top-level object.
    seen_items: bool,
    seen_resource_type: bool,
}

impl ItemReader {
    pub fn open(path: &Path) -> Result<Self, CliError> {
        Self::open_as(path, path.display().to_string())
    }

    /// [`ItemReader::open`], with errors naming the file `name` (where it
    /// came from, e.g. its S3 URL) rather than its path.
    pub fn open_as(path: &Path, name: String) -> Result<Self, CliError> {
        Self::with_window(path, name, WINDOW)
    }

    /// [`ItemReader::open_as`], reading `window` bytes at a time.
    fn with_window(path: &Path, name: String, window: usize) -> Result<Self, CliError> {
        Ok(ItemReader {
            walk: Walk::open(path, name, window)?,
            state: State::Start,
            seen_items: false,
            seen_resource_type: false,
        })
    }

    /// The next item, undecoded (its JSON text), with its position from 0;
    /// `None` after the last.
    pub fn next_item(&mut self) -> Result<Option<(usize, &str)>, CliError> {
        loop {
            match self.state {
                State::Start => {
                    self.walk.skip_ws()?;
                    match self.walk.peek()? {
                        Some(b'[') => {
                            self.walk.start += 1;
                            self.state = State::Items {
                                next: 0,
                                first: true,
                                in_object: false,
                            };
                        }
                        Some(b'{') => {
                            self.walk.start += 1;
                            self.state = State::Members { first: true };
                        }
                        _ => return Err(self.walk.neither()),
                    }
                }
                State::Members { first } => {
                    if !self.walk.more(first, b'}', "',' or '}' in an object")? {
                        return self.object_done();
                    }
                    self.member()?;
                }
                State::Items { next, first, in_object } => {
                    if !self.walk.more(first, b']', "',' or ']' in a list")? {
                        self.state = if in_object {
                            State::Members { first: false }
                        } else {
                            State::End
                        };
                        continue;
                    }
                    let (from, to) = self.walk.item()?;
                    self.walk.start = to;
                    self.state = State::Items {
                        next: next + 1,
                        first: false,
                        in_object,
                    };
                    // serde_json read it as text: it is UTF-8.
                    let text = std::str::from_utf8(&self.walk.buf[from..to])
                        .map_err(|_| self.walk.problem("is not valid UTF-8"))?;
                    return Ok(Some((next, text)));
                }
                State::End => {
                    self.walk.skip_ws()?;
                    if self.walk.peek()?.is_some() {
                        return Err(self.walk.problem("trailing characters after the JSON value"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// One member of the top-level object; entering the list of `configurationItems`.
    fn member(&mut self) -> Result<(), CliError> {
        let (from, to) = self.walk.value()?;
        let key: Cow<'_, str> = serde_json::from_slice(&self.walk.buf[from..to])
            .map_err(|_| self.walk.problem("expected an object member's name"))?;
        let is_items = key == "configurationItems";
        self.seen_resource_type |= key == "resourceType";
        self.walk.start = to;
        self.walk.punct(b":", "':' after a member's name")?;
        self.walk.skip_ws()?;
        if !is_items {
            let (_, to) = self.walk.value()?;
            self.walk.start = to;
            self.state = State::Members { first: false };
            return Ok(());
        }
        if self.seen_items {
            return Err(self.walk.problem("configurationItems appears twice"));
        }
        if self.walk.peek()? != Some(b'[') {
            return Err(self.walk.problem("configurationItems is not a list"));
        }
        self.seen_items = true;
        self.walk.start += 1;
        self.state = State::Items {
            next: 0,
            first: true,
            in_object: true,
        };
        Ok(())
    }

    /// The end of the top-level object: a snapshot's, or one item's (read
    /// again, whole, and handed over as the only item).
    fn object_done(&mut self) -> Result<Option<(usize, &str)>, CliError> {
        self.state = State::End;
        if self.seen_items {
            return self.next_item();
        }
        if !self.seen_resource_type {
            return Err(self.walk.neither());
        }
        self.walk.reread_whole()?;
        let (from, to) = self.walk.value()?;
        self.walk.start = to;
        let text =
            std::str::from_utf8(&self.walk.buf[from..to]).map_err(|_| self.walk.problem("is not valid UTF-8"))?;
        Ok(Some((0, text)))
    }
}

/// A file being walked: its window, and where in it the walk is.
struct Walk {
    path: std::path::PathBuf,
    name: String,
    reader: Box<dyn Read>,
    buf: Vec<u8>,
    /// The unread part of the window is `buf[start..end]`.
    start: usize,
    end: usize,
    /// Bytes of the file dropped from the window before `buf[0]`.
    dropped: u64,
    eof: bool,
}

impl Walk {
    fn open(path: &Path, name: String, window: usize) -> Result<Self, CliError> {
        let read_err = |source| CliError::Read {
            path: name.clone(),
            source,
        };
        let mut file = BufReader::new(File::open(path).map_err(read_err)?);
        let gzip = file.fill_buf().map_err(read_err)?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        Ok(Walk {
            path: path.to_owned(),
            name,
            reader,
            buf: vec![0; window.max(1)],
            start: 0,
            end: 0,
            dropped: 0,
            eof: false,
        })
    }

    fn problem(&self, problem: &str) -> CliError {
        CliError::Input {
            path: self.name.clone(),
            problem: format!("{problem} (near byte {})", self.dropped + self.start as u64),
        }
    }

    /// Reads more of the file into the window; `false` at its end.
    fn fill(&mut self) -> Result<bool, CliError> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.dropped += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(CliError::Read {
                        path: self.name.clone(),
                        source,
                    })
                }
            }
        };
        self.end += n;
        self.eof = n == 0;
        Ok(!self.eof)
    }

    /// The next unread byte, `None` at the end of the file.
    fn peek(&mut self) -> Result<Option<u8>, CliError> {
        while self.start == self.end {
            if !self.fill()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.start]))
    }

    fn skip_ws(&mut self) -> Result<(), CliError> {
        while let Some(b) = self.peek()? {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.start += 1;
        }
        Ok(())
    }

    /// Skips whitespace and reads one punctuation byte, which must be one of `expected`.
    fn punct(&mut self, expected: &[u8], what: &str) -> Result<u8, CliError> {
        self.skip_ws()?;
        match self.peek()? {
            Some(b) if expected.contains(&b) => {
                self.start += 1;
                Ok(b)
            }
            Some(_) => Err(self.problem(&format!("expected {what}"))),
            None => Err(self.problem(&format!("the file ends where {what} was expected"))),
        }
    }

    /// Whether another member or element follows in an object or a list
    /// that ends with `close` (`first`: none was read yet); past the
    /// separator or the end.
    fn more(&mut self, first: bool, close: u8, what: &str) -> Result<bool, CliError> {
        if !first {
            return Ok(self.punct(&[b',', close], what)? == b',');
        }
        self.skip_ws()?;
        let empty = self.peek()? == Some(close);
        if empty {
            self.start += 1;
        }
        Ok(!empty)
    }

    /// The extent in the window of the next JSON value (after whitespace),
    /// parsed by serde_json: the window grows until the value is whole and
    /// something follows it (a number is not cut at the window's edge).
    fn value(&mut self) -> Result<(usize, usize), CliError> {
        loop {
            let window = &self.buf[self.start..self.end];
            let mut de = serde_json::Deserializer::from_slice(window);
            match <&RawValue>::deserialize(&mut de) {
                Ok(raw) => {
                    let from = raw.get().as_ptr() as usize - self.buf.as_ptr() as usize;
                    let to = from + raw.get().len();
                    if to < self.end || self.eof {
                        return Ok((from, to));
                    }
                }
                Err(e) if e.is_eof() && !self.eof => {}
                Err(e) => {
                    return Err(CliError::Syntax {
                        path: self.name.clone(),
                        problem: format!(
                            "{} (near byte {})",
                            without_position(&e),
                            self.dropped + self.start as u64
                        ),
                    })
                }
            }
            self.fill()?;
        }
    }

    /// The extent in the window of the next item (after whitespace): an
    /// object is found by its braces, outside its strings, without being
    /// parsed (its decoding parses it whole); any other value by
    /// [`Walk::value`].
    fn item(&mut self) -> Result<(usize, usize), CliError> {
        self.skip_ws()?;
        if self.peek()? != Some(b'{') {
            return self.value();
        }
        loop {
            if let Some(len) = object_len(&self.buf[self.start..self.end]) {
                return Ok((self.start, self.start + len));
            }
            if !self.fill()? {
                return Err(self.problem("the file ends inside a configuration item"));
            }
        }
    }

    fn neither(&self) -> CliError {
        CliError::Input {
            path: self.name.clone(),
            problem: "neither a Config snapshot (configurationItems) nor configuration items".into(),
        }
    }

    /// The file again from its start, whole, in the window (one item:
    /// small).
    fn reread_whole(&mut self) -> Result<(), CliError> {
        let fresh = Walk::open(&self.path, std::mem::take(&mut self.name), self.buf.len())?;
        *self = fresh;
        while self.fill()? {}
        Ok(())
    }
}

/// The length of the object `bytes` starts with, up to its closing brace
/// (braces inside strings do not count); `None` when `bytes` ends first.
/// Only the braces and the strings' quotes and escapes are looked at: what
/// lies between is checked when the object is parsed.
fn object_len(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = 0;
    loop {
        let found = at + memchr::memchr3(b'"', b'{', b'}', bytes.get(at..)?)?;
        at = found + 1;
        match bytes[found] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(at);
                }
            }
            // A string: to its closing quote, each escape's next byte skipped.
            _ => loop {
                let end = at + memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
                at = end + 1;
                if bytes[end] == b'"' {
                    break;
                }
                at += 1;
            },
        }
    }
}

/// serde_json's message without its " at line L column C" (a line of the
/// window, not of the file).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;

    fn file(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("atrest-item-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(bytes).unwrap();
        z.finish().unwrap()
    }

    /// Every item's text, read `window` bytes at a time.
    fn items(path: &Path, window: usize) -> Result<Vec<(usize, String)>, CliError> {
        let mut reader = ItemReader::with_window(path, path.display().to_string(), window)?;
        let mut out = Vec::new();
        while let Some((i, text)) = reader.next_item()? {
            out.push((i, text.to_owned()));
        }
        Ok(out)
    }

    fn snapshot(n: usize) -> String {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-{i}", "n": {}}}"#,
                    i * 1000
                )
            })
            .collect();
        format!(
            "{{\"fileVersion\": \"1.0\", \"configSnapshotId\": \"s-1\",\n \"configurationItems\": [\n  {}\n ], \"after\": [1, 2.5e3, {{\"x\": null}}]}}\n",
            items.join(",\n  ")
        )
    }

    #[test]
    fn every_item_is_read_whole_whatever_the_window_and_the_compression() {
        let text = snapshot(50);
        let plain = file("plain.json", text.as_bytes());
        let gz = file("snap.json.gz", &gzip(text.as_bytes()));
        let whole = items(&plain, 1 << 20).unwrap();
        assert_eq!(whole.len(), 50);
        assert_eq!(
            whole[7],
            (
                7,
                r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-7", "n": 7000}"#.into()
            )
        );
        // Windows smaller than an item, and cut inside numbers and strings.
        for window in [1, 2, 3, 7, 13, 64, 100, 1000] {
            assert_eq!(items(&plain, window).unwrap(), whole, "window {window}");
            assert_eq!(items(&gz, window).unwrap(), whole, "gzip, window {window}");
        }
    }

    #[test]
    fn a_list_of_items_and_one_item_are_read_too() {
        let list = file(
            "list.json",
            br#" [ {"resourceType": "A", "resourceId": "1"} , {"resourceType": "B"} ] "#,
        );
        let got = items(&list, 5).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (1, r#"{"resourceType": "B"}"#.into()));
        let one = file(
            "one.json",
            br#"{"resourceId": "1", "configuration": {"a": [1]}, "resourceType": "A"}"#,
        );
        let got = items(&one, 4).unwrap();
        assert_eq!(
            got,
            [(
                0,
                r#"{"resourceId": "1", "configuration": {"a": [1]}, "resourceType": "A"}"#.to_owned()
            )]
        );
        assert_eq!(
            items(&file("empty.json", br#"{"configurationItems": []}"#), 3).unwrap(),
            []
        );
    }

    #[test]
    fn bad_files_are_named_with_what_is_wrong_and_where() {
        let cases: [(&str, &[u8], &str); 10] = [
            (
                "twice",
                br#"{"configurationItems": [], "configurationItems": []}"#,
                "configurationItems appears twice",
            ),
            (
                "not-a-list",
                br#"{"configurationItems": {"a": 1}}"#,
                "configurationItems is not a list",
            ),
            ("neither", br#"{"fileVersion": "1.0"}"#, "neither a Config snapshot"),
            ("scalar", b"42", "neither a Config snapshot"),
            (
                "trailing",
                br#"[{"resourceType": "A"}] x"#,
                "trailing characters after the JSON value (near byte 24)",
            ),
            (
                "cut",
                br#"{"configurationItems": [{"resourceType": "A"}"#,
                "the file ends where ',' or ']'",
            ),
            (
                "broken",
                br#"{"configurationItems": [{"resourceType": "A"}], "after": {"x": }}"#,
                "is not valid JSON: expected value",
            ),
            ("comma", br#"[{"a": 1},]"#, "is not valid JSON"),
            (
                "cut-item",
                br#"{"configurationItems": [{"resourceType": "A", "b": "}"#,
                "the file ends inside a configuration item",
            ),
            ("no-colon", br#"{"configurationItems" []}"#, "':' after a member's name"),
        ];
        for (name, bytes, expected) in cases {
            let path = file(&format!("{name}.json"), bytes);
            for window in [2, 4096] {
                let err = items(&path, window).unwrap_err().to_string();
                assert!(err.contains(expected), "{name}, window {window}: {err}");
                assert!(err.contains(&path.display().to_string()), "{err}");
            }
        }
    }

    #[test]
    fn an_item_ends_at_its_closing_brace_whatever_its_strings_hold() {
        let items = [
            r#"{"a": "}", "b": {"c": "{{"}}"#,
            r#"{"a": "say \"}\" twice \\", "b": ["]", {"c": 1}]}"#,
            r#"{"a": "\\", "b": "\\\""}"#,
            r#"{"a": "\u007d", "é": "ünïcødé {"}"#,
            r#"{}"#,
        ];
        for item in items {
            let raw: &RawValue = serde_json::from_str(item).unwrap();
            assert_eq!(raw.get(), item, "a valid item");
            let followed = format!("{item} , {{\"next\": 1}}]");
            assert_eq!(object_len(followed.as_bytes()), Some(item.len()), "{item}");
            // Cut anywhere before its end, it is not whole yet.
            for cut in 0..item.len() {
                assert_eq!(object_len(&item.as_bytes()[..cut]), None, "{item} cut at {cut}");
            }
        }
    }

    #[test]
    fn an_item_broken_inside_is_handed_over_and_its_decoding_names_it() {
        let path = file("broken-item.json", br#"{"configurationItems": [{"resourceType": }]}"#);
        let got = items(&path, 4096).unwrap();
        assert_eq!(got, [(0, r#"{"resourceType": }"#.to_owned())]);
        let err = crate::inputs::decode_item("broken-item.json", 0, &got[0].1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("broken-item.json") && err.contains("configuration item #1"),
            "{err}"
        );
    }
}

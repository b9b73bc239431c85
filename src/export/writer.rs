//! The CSV writer every export (and the signed campaign report) uses.
//!
//! Hand-written rather than the `csv` crate's writer because a signed report must keep the
//! same bytes across dependency upgrades; the rules fit in this file and the README:
//!
//! * RFC 4180: fields separated by `,`, records ended by CRLF, a field containing `,`, `"`,
//!   CR or LF is enclosed in `"` with every `"` inside doubled. Nothing else is quoted.
//! * UTF-8, no byte order mark (see the README's "Evidence exports" for Excel).
//! * An absent value (SQL `NULL`) is an empty field.
//! * Formula neutralisation: a text field whose first character is `=`, `+`, `-`, `@`, TAB
//!   (U+0009) or CR (U+000D) gets one `'` in front, so a spreadsheet shows it as text instead
//!   of running it. A text field that already begins with `'` gets one more, which makes the
//!   rule reversible: an auditor recovers the stored value by removing one leading `'` from
//!   every field that begins with `'`. The `'` goes inside the quotes when the field is quoted.
//! * Numbers are written as decimal digits (they come from integers, never from text, so
//!   there is nothing to neutralise); booleans as `true` / `false`.

use std::io::Write as _;

/// One field of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Bool(bool),
    /// No value: an empty field.
    Empty,
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(value: &'a str) -> Self {
        Cell::Text(value)
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(value: &'a String) -> Self {
        Cell::Text(value)
    }
}

impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(Cell::Empty, Cell::Text)
    }
}

impl<'a> From<&'a Option<String>> for Cell<'a> {
    fn from(value: &'a Option<String>) -> Self {
        value.as_deref().map_or(Cell::Empty, Cell::Text)
    }
}

impl From<i64> for Cell<'_> {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

impl From<Option<i64>> for Cell<'_> {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Cell::Empty, Cell::Int)
    }
}

impl From<bool> for Cell<'_> {
    fn from(value: bool) -> Self {
        Cell::Bool(value)
    }
}

/// Appends one record (fields and the CRLF that ends it) to `out`.
pub fn write_record<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = Cell<'a>>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match cell {
            Cell::Text(text) => write_text(out, text),
            // Writing to a Vec cannot fail.
            Cell::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Cell::Empty => {}
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a header record of plain column names.
pub fn write_header(out: &mut Vec<u8>, columns: &[&str]) {
    write_record(out, columns.iter().map(|c| Cell::Text(c)));
}

/// Whether a spreadsheet could read `text` as a formula (or it already starts with the
/// escape), so it needs a leading `'`.
pub fn needs_neutralising(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'')
    )
}

fn write_text(out: &mut Vec<u8>, text: &str) {
    let quote = text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if quote {
        out.push(b'"');
    }
    if needs_neutralising(text) {
        out.push(b'\'');
    }
    if quote {
        for (i, part) in text.split('"').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// The stored value of a field read back from an export: one leading `'` removed (see the
/// module documentation). For tests and tools that compare an export with the database.
pub fn restore(field: &str) -> &str {
    field.strip_prefix('\'').unwrap_or(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[Cell<'_>]) -> String {
        let mut out = Vec::new();
        write_record(&mut out, cells.iter().copied());
        String::from_utf8(out).unwrap_or_default()
    }

    fn text(value: &str) -> String {
        line(&[Cell::Text(value)])
    }

    /// Reads `bytes` back with a strict RFC 4180 reader.
    fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(false)
            .from_reader(bytes)
            .records()
            .map(|r| {
                r.map(|r| r.iter().map(str::to_string).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn records_end_with_crlf_and_plain_fields_are_bare() {
        assert_eq!(
            line(&[
                Cell::Text("a"),
                Cell::Int(42),
                Cell::Bool(true),
                Cell::Empty
            ]),
            "a,42,true,\r\n"
        );
        assert_eq!(line(&[Cell::Empty, Cell::Empty]), ",\r\n");
        assert_eq!(line(&[Cell::Int(-7), Cell::Bool(false)]), "-7,false\r\n");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(text("Brooks, Ben"), "\"Brooks, Ben\"\r\n");
        assert_eq!(text("say \"hi\""), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(text("two\nlines"), "\"two\nlines\"\r\n");
        assert_eq!(text("cr\rhere"), "\"cr\rhere\"\r\n");
        assert_eq!(text("\""), "\"\"\"\"\r\n");
    }

    #[test]
    fn formula_starts_are_neutralised() {
        for (value, written) in [
            ("=1+1", "'=1+1\r\n"),
            ("+1", "'+1\r\n"),
            ("-1", "'-1\r\n"),
            ("@SUM(A1)", "'@SUM(A1)\r\n"),
            ("\tx", "'\tx\r\n"),
            ("\rx", "\"'\rx\"\r\n"),
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n",
            ),
            ("'quoted", "''quoted\r\n"),
            // Only the first character counts.
            ("a=b", "a=b\r\n"),
            (" =1", " =1\r\n"),
        ] {
            assert_eq!(text(value), written, "{value:?}");
        }
    }

    #[test]
    fn every_script_survives_a_strict_reader() {
        let values = [
            "O'Brien, \"Bob\"",
            "line one\r\nline two",
            "עברית, שלום",
            "مرحبا \u{200F}بالعالم",
            "山田 太郎",
            "김민준",
            "😀 party 🎉, \"yes\"",
            "=cmd|' /C calc'!A0",
            "-2+3",
            "@me",
            "'already",
            "",
            "plain",
        ];
        let mut out = Vec::new();
        write_header(&mut out, &["value", "n"]);
        for value in values {
            write_record(&mut out, [Cell::Text(value), Cell::Int(1)]);
        }
        let rows = parse(&out);
        assert_eq!(rows.len(), values.len() + 1);
        assert_eq!(rows[0], ["value", "n"]);
        for (row, value) in rows[1..].iter().zip(values) {
            assert_eq!(restore(&row[0]), value);
            let first = row[0].chars().next();
            assert!(
                !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
                "{row:?} starts like a formula"
            );
        }
    }

    #[test]
    fn output_is_utf8_without_bom() {
        let mut out = Vec::new();
        write_header(&mut out, &["name"]);
        write_record(&mut out, [Cell::Text("Zoë")]);
        assert!(!out.starts_with(b"\xEF\xBB\xBF"));
        assert_eq!(out, "name\r\nZoë\r\n".as_bytes());
    }
}

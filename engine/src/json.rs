//! A small JSON parser that remembers where every value came from.
//!
//! serde_json gives values but not positions, and every rule-set diagnostic must point at
//! `line:column`. This parser keeps a [`Span`] on each value and object key, keeps object
//! members in document order (duplicates included, so the validator can report them), and
//! turns the mistakes people actually make — comments, trailing commas, single quotes —
//! into errors that say so. Nesting is capped so hostile input cannot overflow the stack.
//!
//! It is not on any hot path: it runs once per rule set, configuration or scenario.

use crate::source::{LineIndex, Span};

/// Deepest nesting accepted; rule sets need fewer than 10 levels.
const MAX_DEPTH: usize = 128;

/// A JSON value with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// What the value is.
    pub kind: Kind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in document order (duplicates kept).
    Object(Vec<Member>),
}

/// One `"key": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// The span of the key including its quotes.
    pub key_span: Span,
    /// The value.
    pub value: Value,
}

/// A syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub span: Span,
    /// What was wrong.
    pub message: String,
    /// How to fix it, when that is clear.
    pub help: Option<String>,
}

impl Kind {
    /// The JSON type name used in messages ("a number", "an object", …).
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::Array(_) => "an array",
            Kind::Object(_) => "an object",
        }
    }
}

impl Value {
    /// The members if this is an object.
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            Kind::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The string if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The first member named `key` if this is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.iter().find(|m| m.key == key).map(|m| &m.value)
    }
}

/// Parses one JSON document.
///
/// # Errors
/// The first syntax error, with its span.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    parse_range(text, Span::new(0, text.len()))
}

/// Parses the JSON document occupying `range` of `text`; spans are positions in `text`.
///
/// # Errors
/// The first syntax error, with its span.
///
/// # Panics
/// If `range` is not within `text` on character boundaries.
pub fn parse_range(text: &str, range: Span) -> Result<Value, SyntaxError> {
    let text = &text[..range.end as usize];
    let mut start = range.start as usize;
    // Editors on Windows may save UTF-8 with a byte-order mark; it carries no meaning.
    if text[start..].starts_with('\u{feff}') {
        start += '\u{feff}'.len_utf8();
    }
    let mut parser = Parser { bytes: text.as_bytes(), text, pos: start };
    parser.skip_ws()?;
    if parser.pos == parser.bytes.len() {
        return Err(parser.error_here("the document is empty; expected a JSON value", None));
    }
    let value = parser.value(0)?;
    parser.skip_ws()?;
    if parser.pos != parser.bytes.len() {
        return Err(parser.error_here(
            "unexpected text after the end of the JSON value",
            Some("a document holds exactly one value; remove what follows it".into()),
        ));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error_here(&self, message: &str, help: Option<String>) -> SyntaxError {
        let end = (self.pos + 1).min(self.bytes.len());
        let mut end = end;
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        SyntaxError { span: Span::new(self.pos, end), message: message.into(), help }
    }

    fn error_at(&self, start: usize, end: usize, message: &str, help: Option<&str>) -> SyntaxError {
        SyntaxError { span: Span::new(start, end), message: message.into(), help: help.map(Into::into) }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> Result<(), SyntaxError> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' if matches!(self.bytes.get(self.pos + 1), Some(b'/') | Some(b'*')) => {
                    return Err(self.error_at(
                        self.pos,
                        self.pos + 2,
                        "comments are not allowed in JSON",
                        Some("FlexMatch rejects rule sets with comments; delete the comment or move it into a rule's \"description\""),
                    ));
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error_here("the document is nested too deeply (more than 128 levels)", None));
        }
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Kind::String(self.string()?),
            Some(b'\'') => {
                return Err(self.error_here(
                    "JSON strings use double quotes",
                    Some("replace the single quotes with double quotes".into()),
                ));
            }
            Some(b't') => self.literal("true", Kind::Bool(true))?,
            Some(b'f') => self.literal("false", Kind::Bool(false))?,
            Some(b'n') => self.literal("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            None => {
                return Err(self.error_here("unexpected end of document; expected a value", None));
            }
            Some(_) => {
                let word_end = self.bytes[self.pos..]
                    .iter()
                    .position(|b| !b.is_ascii_alphanumeric() && *b != b'_')
                    .map_or(self.bytes.len(), |n| self.pos + n)
                    .max(self.pos + 1);
                let help = if word_end > self.pos + 1 {
                    Some("JSON has no bare words; put text in double quotes")
                } else {
                    None
                };
                let mut end = word_end;
                while !self.text.is_char_boundary(end) {
                    end += 1;
                }
                return Err(self.error_at(self.pos, end, "expected a JSON value", help));
            }
        };
        Ok(Value { kind, span: Span::new(start, self.pos) })
    }

    fn literal(&mut self, word: &str, kind: Kind) -> Result<Kind, SyntaxError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error_here(&format!("expected `{word}`"), None))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Kind::Object(members));
        }
        let mut comma = open;
        loop {
            self.skip_ws()?;
            let key_start = self.pos;
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') if !members.is_empty() => {
                    return Err(self.error_at(
                        comma,
                        comma + 1,
                        "trailing comma before `}`",
                        Some("JSON does not allow a comma after the last member; remove it"),
                    ));
                }
                Some(b']') => return Err(self.mismatched(open, '}')),
                None => return Err(self.unclosed(open, '}')),
                _ => return Err(self.error_here("expected a member name in double quotes", None)),
            }
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.error_here("expected `:` after the member name", None));
            }
            self.pos += 1;
            self.skip_ws()?;
            let value = self.value(depth + 1)?;
            members.push(Member { key, key_span, value });
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    comma = self.pos;
                    self.pos += 1;
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Kind::Object(members));
                }
                Some(b']') => return Err(self.mismatched(open, '}')),
                None => return Err(self.unclosed(open, '}')),
                _ => {
                    return Err(self.error_here(
                        "expected `,` or `}` after an object member",
                        Some("a comma may be missing between two members".into()),
                    ));
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Kind::Array(items));
        }
        let mut comma = open;
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some(b']') if !items.is_empty() => {
                    return Err(self.error_at(
                        comma,
                        comma + 1,
                        "trailing comma before `]`",
                        Some("JSON does not allow a comma after the last element; remove it"),
                    ));
                }
                Some(b'}') => return Err(self.mismatched(open, ']')),
                None => return Err(self.unclosed(open, ']')),
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    comma = self.pos;
                    self.pos += 1;
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Kind::Array(items));
                }
                Some(b'}') => return Err(self.mismatched(open, ']')),
                None => return Err(self.unclosed(open, ']')),
                _ => {
                    return Err(self.error_here(
                        "expected `,` or `]` after an array element",
                        Some("a comma may be missing between two elements".into()),
                    ));
                }
            }
        }
    }

    fn unclosed(&self, open: usize, close: char) -> SyntaxError {
        let opener = if close == '}' { '{' } else { '[' };
        SyntaxError {
            span: Span::new(open, open + 1),
            message: format!("this `{opener}` is never closed"),
            help: Some(format!("add the missing `{close}`")),
        }
    }

    /// A closing bracket of the other kind at `self.pos` while the bracket at `open`, which
    /// `close` would close, is still open: `{"a": 1]` or `[1, 2}`.
    fn mismatched(&self, open: usize, close: char) -> SyntaxError {
        let opener = if close == '}' { '{' } else { '[' };
        let found = self.bytes[self.pos] as char;
        let at = LineIndex::new(self.text).line_col(self.text, self.pos as u32);
        SyntaxError {
            span: Span::new(open, open + 1),
            message: format!("this `{opener}` is never closed: the `{found}` at {}:{} comes first", at.line, at.column),
            help: Some(format!("add the missing `{close}` before the `{found}` at {}:{}", at.line, at.column)),
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escape_start = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let c = self.unicode_escape(escape_start)?;
                            out.push(c);
                            continue;
                        }
                        _ => {
                            return Err(self.error_at(
                                escape_start,
                                (self.pos + 1).min(self.bytes.len()),
                                "invalid escape sequence in string",
                                Some("valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"),
                            ));
                        }
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(b'\n') | None => {
                    return Err(self.error_at(
                        open,
                        open + 1,
                        "this string is never closed",
                        Some("add the closing `\"`"),
                    ));
                }
                Some(_) => {
                    return Err(self.error_here("control characters must be escaped inside strings", None));
                }
            }
        }
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, SyntaxError> {
        let digits = self.bytes.get(self.pos..self.pos + 4).filter(|d| d.iter().all(u8::is_ascii_hexdigit));
        match digits {
            Some(d) => {
                let v = u32::from_str_radix(std::str::from_utf8(d).unwrap_or("0"), 16).unwrap_or(0);
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.error_at(escape_start, self.pos, "`\\u` must be followed by four hex digits", None)),
        }
    }

    fn unicode_escape(&mut self, escape_start: usize) -> Result<char, SyntaxError> {
        let high = self.hex4(escape_start)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(self.error_at(escape_start, self.pos, "unpaired surrogate in `\\u` escape", None));
            }
            self.pos += 2;
            let low = self.hex4(escape_start)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error_at(escape_start, self.pos, "unpaired surrogate in `\\u` escape", None));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code)
            .ok_or_else(|| self.error_at(escape_start, self.pos, "`\\u` escape is not a valid character", None))
    }

    fn number(&mut self) -> Result<f64, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.error_here("expected a digit", None)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here("expected a digit after the decimal point", None));
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here("expected a digit in the exponent", None));
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'0'..=b'9')) && self.bytes[start..self.pos] == *b"0" {
            return Err(self.error_at(start, self.pos + 1, "numbers may not have leading zeros", None));
        }
        let text = &self.text[start..self.pos];
        let value: f64 = text.parse().map_err(|_| self.error_at(start, self.pos, "invalid number", None))?;
        if !value.is_finite() {
            return Err(self.error_at(start, self.pos, "number is too large", None));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests;

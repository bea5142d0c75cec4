//! Problems found in user-supplied documents (rule sets, configurations, scenarios).
//!
//! A bad document is user input, not an engine error: validation returns every
//! [`Diagnostic`] at once, each with the JSON path of the offending value, its
//! `line:column`, a message written for a rule author, and help when a fix is clear.
//! [`render`] prints them the way rustc does; the CLI's `--format json` serialises them.

use std::fmt::Write as _;

use serde::Serialize;

use crate::source::{LineCol, LineIndex, Span};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is rejected.
    Error,
    /// The document is accepted, but probably not what the author meant.
    Warning,
}

/// One problem in a document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable kebab-case identifier of the kind of problem (`unknown-attribute`).
    pub code: &'static str,
    /// JSON path of the offending value (`rules[2].measurements[0]`); empty for the root.
    pub path: String,
    /// Byte span in the source text.
    pub span: Span,
    /// 1-based position of `span.start`.
    pub location: LineCol,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when known (`did you mean 'skill'?`).
    pub help: Option<String>,
}

impl Diagnostic {
    /// Whether this diagnostic rejects the document.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects diagnostics while a document is checked, resolving positions as it goes.
#[derive(Debug)]
pub(crate) struct Sink<'t> {
    text: &'t str,
    lines: LineIndex,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'t> Sink<'t> {
    pub(crate) fn new(text: &'t str) -> Sink<'t> {
        Sink { text, lines: LineIndex::new(text), diagnostics: Vec::new() }
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: &str,
        span: Span,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let location = self.lines.line_col(self.text, span.start);
        self.diagnostics.push(Diagnostic {
            severity,
            code,
            path: path.to_owned(),
            span,
            location,
            message: message.into(),
            help,
        });
    }

    pub(crate) fn error(&mut self, code: &'static str, path: &str, span: Span, message: impl Into<String>) {
        self.push(Severity::Error, code, path, span, message, None);
    }

    pub(crate) fn error_help(
        &mut self,
        code: &'static str,
        path: &str,
        span: Span,
        message: impl Into<String>,
        help: impl Into<Option<String>>,
    ) {
        self.push(Severity::Error, code, path, span, message, help.into());
    }

    pub(crate) fn warning(
        &mut self,
        code: &'static str,
        path: &str,
        span: Span,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        self.push(Severity::Warning, code, path, span, message, help);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Diagnostics in document order (then by path), the order people read them in.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by(|a, b| {
            (a.span.start, a.severity, &a.path, &a.message).cmp(&(b.span.start, b.severity, &b.path, &b.message))
        });
        self.diagnostics.dedup();
        self.diagnostics
    }
}

/// Renders `diagnostics` of the document `text` named `file_name` the way rustc does:
///
/// ```text
/// error[unknown-attribute]: unknown attribute 'skil'
///   --> ranked.json:12:52
///    |
/// 12 |       "measurements": "avg(teams[*].players.attributes[skil])",
///    |                                                        ^^^^
///    = path: rules[0].measurements
///    = help: did you mean 'skill'?
/// ```
pub fn render(file_name: &str, text: &str, diagnostics: &[Diagnostic]) -> String {
    let lines = LineIndex::new(text);
    let mut out = String::new();
    for d in diagnostics {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let LineCol { line, column } = d.location;
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{label}[{}]: {}", d.code, d.message);
        let _ = writeln!(out, "{pad}--> {file_name}:{line}:{column}");
        let source_line = lines.line_text(text, line);
        if !text.is_empty() {
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{line} | {source_line}");
            let caret_start = (column as usize).saturating_sub(1);
            let end = lines.line_col(text, d.span.end);
            let caret_len = if end.line == line && end.column > column {
                (end.column - column) as usize
            } else {
                source_line.chars().count().saturating_sub(caret_start).max(1)
            };
            let indent: String =
                source_line.chars().take(caret_start).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            let _ = writeln!(out, "{pad} | {indent}{}", "^".repeat(caret_len.min(120)));
        }
        if !d.path.is_empty() {
            let _ = writeln!(out, "{pad} = path: {}", d.path);
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out.push('\n');
    }
    out
}

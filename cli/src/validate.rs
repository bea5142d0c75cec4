//! `rallypoint validate FILE...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rallypoint::config::{self, MatchmakingConfiguration, RuleSetSource};
use rallypoint::diagnostic::render;
use rallypoint::ruleset::RuleKind;
use rallypoint::{Diagnostic, json, ruleset};
use serde::Serialize;

use crate::plugins::PluginDirs;

/// Arguments of `rallypoint validate`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Rule-set or configuration files (JSON). A configuration's RuleSetBody or
    /// RuleSetPath is validated too, and checked against the configuration.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// What the files are; `auto` decides from their fields.
    #[arg(long, value_enum, default_value_t = DocKind::Auto)]
    kind: DocKind,
    /// Also find and load the modules of `plugin` rules (as `simulate` and `loadtest`
    /// would, searching these directories and then the rule set's own), and report a
    /// plugin that is missing or refused (imports, ABI, its init rejecting the rule's
    /// attributes or parameters). Without it, plugin rules are checked as text only.
    #[command(flatten)]
    plugins: PluginDirs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// rustc-style messages on stderr, a summary line on stdout.
    Human,
    /// One JSON document on stdout.
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum DocKind {
    /// Decide from the document's fields.
    Auto,
    /// A FlexMatch rule set.
    Ruleset,
    /// A matchmaking configuration (CreateMatchmakingConfiguration shape).
    Configuration,
}

/// The outcome for one source text (a file, or a rule set a configuration points to).
#[derive(Serialize)]
struct Report {
    file: String,
    kind: DocKind,
    valid: bool,
    diagnostics: Vec<Diagnostic>,
    #[serde(skip)]
    text: String,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    let mut io_error = false;
    for path in &args.files {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut file_reports = check_file(path, text, args.kind);
                if !args.plugins.dirs.is_empty() {
                    file_reports.iter_mut().for_each(|r| check_plugins(r, path, &args.plugins));
                }
                reports.extend(file_reports);
            }
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", path.display());
                io_error = true;
            }
        }
    }
    match args.format {
        Format::Human => {
            for r in &reports {
                eprint!("{}", render(&r.file, &r.text, &r.diagnostics));
            }
            let invalid = reports.iter().filter(|r| !r.valid).count();
            let warnings: usize = reports.iter().map(|r| r.diagnostics.iter().filter(|d| !d.is_error()).count()).sum();
            for r in &reports {
                let errors = r.diagnostics.iter().filter(|d| d.is_error()).count();
                let status =
                    if r.valid { "valid".to_owned() } else { format!("invalid ({errors} error{})", plural(errors)) };
                println!("{}: {} {status}", r.file, kind_name(r.kind));
            }
            println!(
                "{} checked: {} valid, {invalid} invalid, {warnings} warning{}",
                reports.len(),
                reports.len() - invalid,
                plural(warnings)
            );
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
    }
    let code = if io_error {
        2
    } else if reports.iter().any(|r| !r.valid) {
        1
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Configuration => "configuration",
        _ => "rule set",
    }
}

/// Fields only a matchmaking configuration has.
const CONFIGURATION_MARKERS: &[&str] = &[
    "Name",
    "RuleSetName",
    "RuleSetBody",
    "RuleSetPath",
    "RequestTimeoutSeconds",
    "AcceptanceRequired",
    "FlexMatchMode",
];

fn detect(text: &str) -> DocKind {
    match json::parse(text) {
        Ok(v) if v.as_object().is_some_and(|m| m.iter().any(|m| CONFIGURATION_MARKERS.contains(&m.key.as_str()))) => {
            DocKind::Configuration
        }
        _ => DocKind::Ruleset,
    }
}

fn check_file(path: &Path, text: String, kind: DocKind) -> Vec<Report> {
    let file = path.display().to_string();
    let kind = if kind == DocKind::Auto { detect(&text) } else { kind };
    if kind == DocKind::Ruleset {
        let checked = ruleset::check(&text);
        return vec![Report { file, kind, valid: checked.is_valid(), diagnostics: checked.diagnostics, text }];
    }
    let checked = config::check(&text);
    let mut reports = Vec::new();
    let mut config_report = Report {
        file: file.clone(),
        kind,
        valid: checked.is_valid(),
        diagnostics: checked.diagnostics,
        text: String::new(),
    };
    if let Some(configuration) = &checked.value {
        match &configuration.rule_set {
            RuleSetSource::Name(_) => {}
            RuleSetSource::Body { text: body, span, inline: true, .. } => {
                let rs = ruleset::check_with_configuration(&text, *span, configuration);
                config_report.valid &= rs.is_valid();
                config_report.diagnostics.extend(rs.diagnostics);
                let _ = body;
            }
            RuleSetSource::Body { text: body, .. } => {
                reports.push(rule_set_report(format!("{file} (RuleSetBody)"), body.clone(), configuration));
            }
            RuleSetSource::Path(rel) => {
                let target = path.parent().unwrap_or(Path::new(".")).join(rel);
                match std::fs::read_to_string(&target) {
                    Ok(body) => reports.push(rule_set_report(target.display().to_string(), body, configuration)),
                    Err(err) => {
                        config_report.valid = false;
                        config_report.diagnostics.push(io_diagnostic(&text, rel, &target, &err));
                    }
                }
            }
        }
    }
    config_report.diagnostics.sort_by_key(|d| d.span.start);
    config_report.text = text;
    reports.insert(0, config_report);
    reports
}

fn rule_set_report(file: String, text: String, configuration: &MatchmakingConfiguration) -> Report {
    let rs = ruleset::check_with_configuration(&text, rallypoint::source::Span::new(0, text.len()), configuration);
    Report { file, kind: DocKind::Ruleset, valid: rs.is_valid(), diagnostics: rs.diagnostics, text }
}

/// With `--plugin-dir`: loads the plugins of a valid rule set's plugin rules and reports
/// each one that cannot be loaded at the rule's `plugin` field.
fn check_plugins(report: &mut Report, path: &Path, dirs: &PluginDirs) {
    if report.kind != DocKind::Ruleset || !report.valid {
        return;
    }
    let Some(rule_set) = ruleset::check(&report.text).value else { return };
    let lines = rallypoint::source::LineIndex::new(&report.text);
    let problems = dirs.modules(path.parent()).check(&rule_set);
    for (index, problem) in problems {
        let (span, at) = match rule_set.rules.get(index).map(|r| &r.kind) {
            Some(RuleKind::Plugin(p)) => (p.plugin_span, format!("rules[{index}].plugin")),
            _ => (rallypoint::source::Span::default(), String::new()),
        };
        report.diagnostics.push(Diagnostic {
            severity: rallypoint::Severity::Error,
            code: "plugin-not-loadable",
            path: at,
            span,
            location: lines.line_col(&report.text, span.start),
            message: problem,
            help: Some("build the plugin (scripts/build-plugins, or cargo build --release in its crate) and pass the directory holding NAME.wasm with --plugin-dir".to_owned()),
        });
        report.valid = false;
    }
}

fn io_diagnostic(text: &str, rel: &str, target: &Path, err: &std::io::Error) -> Diagnostic {
    // Point at the RuleSetPath value in the configuration.
    let span = json::parse(text).ok().and_then(|v| v.get("RuleSetPath").map(|v| v.span)).unwrap_or_default();
    let lines = rallypoint::source::LineIndex::new(text);
    Diagnostic {
        severity: rallypoint::Severity::Error,
        code: "unreadable-rule-set",
        path: "RuleSetPath".to_owned(),
        span,
        location: lines.line_col(text, span.start),
        message: format!("cannot read rule set '{rel}' ({}): {err}", target.display()),
        help: Some("RuleSetPath is resolved relative to the configuration file".to_owned()),
    }
}

//! Replays the committed fuzz corpus (`fuzz/corpus/`) through the same entry points as the
//! fuzz targets, so inputs that once crashed or reached new code keep being checked by the
//! ordinary test run. Any panic fails the test.

use std::path::{Path, PathBuf};

use rallypoint::expr::{AttrType, Scope, TeamScope};

fn corpus(target: &str) -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).expect("corpus file");
            String::from_utf8(bytes).ok().map(|text| (p, text))
        })
        .collect()
}

#[test]
fn rule_set_corpus_never_panics() {
    let files = corpus("ruleset");
    assert!(files.len() > 100, "the rule-set corpus should be committed ({} files)", files.len());
    let mut valid = 0;
    for (_, text) in &files {
        let checked = rallypoint::ruleset::check(text);
        let _ = rallypoint::diagnostic::render("fuzz.json", text, &checked.diagnostics);
        if let Some(rule_set) = &checked.value {
            let _ = rallypoint::ruleset::compile(rule_set);
            valid += 1;
        }
        // Every rejected document says why.
        assert!(checked.value.is_some() || checked.diagnostics.iter().any(|d| d.is_error()));
    }
    assert!(valid > 0, "the corpus should reach the compiler");
}

#[test]
fn expression_corpus_never_panics() {
    let files = corpus("expr");
    assert!(files.len() > 100, "the expression corpus should be committed ({} files)", files.len());
    let attributes = [
        ("skill".to_owned(), AttrType::Number),
        ("mode".to_owned(), AttrType::String),
        ("roles".to_owned(), AttrType::StringList),
        ("maps".to_owned(), AttrType::StringNumberMap),
    ];
    let teams = [TeamScope { name: "red".into(), quantity: 1 }, TeamScope { name: "trio".into(), quantity: 3 }];
    let scope = Scope { attributes: &attributes, teams: &teams };
    let mut typed = 0;
    for (_, text) in &files {
        let Ok(parsed) = rallypoint::expr::parse(text) else { continue };
        if rallypoint::expr::check(&parsed, &scope).is_ok() {
            let mut interner = rallypoint::intern::Interner::new();
            let _ = rallypoint::expr::compile(&parsed, &scope, &mut interner);
            typed += 1;
        }
    }
    assert!(typed > 0, "the corpus should reach the type checker's success path");
}

#[test]
fn configuration_corpus_never_panics() {
    for (_, text) in corpus("config") {
        let checked = rallypoint::config::check(&text);
        let _ = rallypoint::diagnostic::render("fuzz.json", &text, &checked.diagnostics);
        assert!(checked.value.is_some() || checked.diagnostics.iter().any(|d| d.is_error()));
    }
}

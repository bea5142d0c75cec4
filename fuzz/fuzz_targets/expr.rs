//! Property-expression text in; parsing and type checking must never panic.
#![no_main]

use rallypoint::expr::{AttrType, Scope, TeamScope};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = rallypoint::expr::parse(text) else { return };
    let attributes = [
        ("skill".to_owned(), AttrType::Number),
        ("mode".to_owned(), AttrType::String),
        ("roles".to_owned(), AttrType::StringList),
        ("maps".to_owned(), AttrType::StringNumberMap),
    ];
    let teams = [TeamScope { name: "red".into(), quantity: 1 }, TeamScope { name: "trio".into(), quantity: 3 }];
    let scope = Scope { attributes: &attributes, teams: &teams };
    if rallypoint::expr::check(&parsed, &scope).is_ok() {
        let mut interner = rallypoint::intern::Interner::new();
        let _ = rallypoint::expr::compile(&parsed, &scope, &mut interner);
    }
});

//! Rule-set text in; must never panic, whatever the bytes. Valid rule sets are compiled too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
});

fn check(text: &str) {
    let checked = rallypoint::ruleset::check(text);
    let _ = rallypoint::diagnostic::render("fuzz.json", text, &checked.diagnostics);
    if let Some(rule_set) = &checked.value {
        let _ = rallypoint::ruleset::compile(rule_set);
    }
}

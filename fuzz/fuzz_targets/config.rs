//! Matchmaking-configuration text in; must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let checked = rallypoint::config::check(text);
        let _ = rallypoint::diagnostic::render("fuzz.json", text, &checked.diagnostics);
    }
});

//! Conformance corpus: one trial per `tests/conformance/**/X.json`, compared with `X.expected`.
//!
//! Run: `cargo test -p rallypoint-tests --test conformance`
//! Bless: `UPDATE_EXPECT=1 cargo test -p rallypoint-tests --test conformance`

use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use rallypoint_tests::{Case, check, corpus, corpus_root, line_diff};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let bless = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let trials = corpus(&corpus_root())
        .into_iter()
        .map(|case| Trial::test(case.name.clone(), move || run(&case, bless)))
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

fn run(case: &Case, bless: bool) -> Result<(), Failed> {
    let text = std::fs::read_to_string(&case.json).map_err(|e| format!("cannot read {}: {e}", case.json.display()))?;
    let file_name = case.json.file_name().unwrap().to_string_lossy();
    let outcome = check(case.kind, &file_name, &text);
    let mut problems = Vec::new();
    if case.valid && outcome.errors > 0 {
        problems.push(format!("{file_name} is in valid/ but has {} error(s)", outcome.errors));
    }
    if !case.valid && outcome.errors == 0 {
        problems.push(format!("{file_name} is in invalid/ but has no errors"));
    }
    if bless {
        std::fs::write(&case.expected, &outcome.actual)
            .map_err(|e| format!("cannot write {}: {e}", case.expected.display()))?;
    } else {
        match std::fs::read_to_string(&case.expected) {
            Ok(expected) if expected == outcome.actual => {}
            Ok(expected) => problems.push(format!(
                "{} differs (- expected, + actual; bless with UPDATE_EXPECT=1):\n{}",
                case.expected.display(),
                line_diff(&expected, &outcome.actual)
            )),
            Err(e) => problems.push(format!(
                "cannot read {} ({e}); create it with UPDATE_EXPECT=1\nactual output:\n{}",
                case.expected.display(),
                outcome.actual
            )),
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n").into()) }
}

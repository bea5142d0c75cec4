//! `rallypoint plugin …`: tools for WebAssembly rule plugins (see rules-plugins/README.md).
//!
//! - `plugin new NAME [--dir PATH]` scaffolds a plugin crate that builds as is, offline:
//!   the SDK's sources are compiled into this binary and written next to the new crate.
//! - `plugin check FILE.wasm --rule-set RULES.json` loads a plugin and tests it
//!   (`plugin_check.rs`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

/// Arguments of `rallypoint plugin`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Create a new rule plugin crate, ready to build.
    ///
    /// Writes a Cargo crate (a `cdylib` for wasm32-unknown-unknown) with a small working
    /// rule, a README with the build, check and rule-set steps, and a copy of the plugin
    /// SDK (`sdk/`, used as a path dependency, so it builds without network access).
    /// Exit status: 0 when created, 1 for an invalid name or a directory that is not
    /// empty, 2 on usage or I/O errors.
    New(NewArgs),
    /// Load a plugin as the engine does and test it on a generated corpus.
    ///
    /// Checks the module (no imports, the ABI's exports, `rallypoint_init` with the setup of
    /// a plugin rule from --rule-set), runs it with fuel metering on generated candidates
    /// shaped by that rule set, reports fuel per candidate (p50/p99) and pass rates, and
    /// checks that two different batchings give bit-identical verdicts (and filter
    /// answers). Exit status: 0 when every check passes, 1 otherwise.
    Check(crate::plugin_check::CheckArgs),
}

/// Arguments of `rallypoint plugin new`.
#[derive(clap::Args, Debug)]
pub(crate) struct NewArgs {
    /// The plugin's crate name (letters, digits, `-`, `_`). Its module is NAME with `-`
    /// replaced by `_`, plus `.wasm`, and rules refer to it by that stem.
    #[arg(value_name = "NAME")]
    name: String,
    /// The crate's directory (default: ./NAME). Created if missing; it must be empty if it
    /// exists.
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::New(args) => new(args),
        Command::Check(args) => crate::plugin_check::run(args),
    }
}

fn new(args: &NewArgs) -> anyhow::Result<ExitCode> {
    if let Err(why) = check_name(&args.name) {
        eprintln!("error: invalid plugin name '{}': {why}", args.name);
        return Ok(ExitCode::from(1));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    match std::fs::read_dir(&dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) => {
            eprintln!(
                "error: {} already exists and is not empty; nothing was written (choose another --dir)",
                dir.display()
            );
            return Ok(ExitCode::from(1));
        }
        Ok(false) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) if dir.exists() => {
            eprintln!("error: {} already exists and is not a directory; nothing was written", dir.display());
            return Ok(ExitCode::from(1));
        }
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", dir.display())),
    }

    let files = scaffold(&args.name);
    for (path, contents) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }

    let wasm = wasm_name(&args.name);
    println!("Created rule plugin `{}` in {}:", args.name, dir.display());
    for (path, _) in files.iter().filter(|(p, _)| !p.starts_with("sdk/")) {
        println!("  {path}");
    }
    println!("  sdk/  (rallypoint-plugin-sdk {}, vendored)", sdk_version());
    println!();
    println!("Next:");
    println!("  cd {}", dir.display());
    println!("  cargo build --release");
    println!("  rallypoint plugin check target/wasm32-unknown-unknown/release/{wasm}.wasm --rule-set rules.json");
    println!("and see README.md for the rule-set snippet.");
    Ok(ExitCode::SUCCESS)
}

/// Why `name` cannot be a plugin's crate name, if it cannot.
fn check_name(name: &str) -> Result<(), String> {
    let first = name.chars().next().ok_or("the name is empty")?;
    if name.len() > 64 {
        return Err("it is longer than 64 characters".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(format!("'{c}' is not allowed (use ASCII letters, digits, '-' and '_')"));
    }
    if !first.is_ascii_alphabetic() {
        return Err("it must start with a letter".into());
    }
    let crate_name = wasm_name(name);
    if RUST_KEYWORDS.contains(&crate_name.as_str()) {
        return Err(format!("'{crate_name}' is a Rust keyword"));
    }
    if RESERVED.contains(&crate_name.as_str()) {
        return Err(format!("'{crate_name}' is the name of a crate every plugin depends on or a reserved name"));
    }
    Ok(())
}

/// Strict and reserved keywords of Rust 2024: a crate cannot be named after one.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Crate names that would clash with the standard library, Cargo's targets or the SDK.
const RESERVED: &[&str] = &["alloc", "core", "proc_macro", "std", "test", "build", "deps", "rallypoint_plugin_sdk"];

/// The module's file stem: NAME with `-` replaced by `_` (Cargo's library name).
fn wasm_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The SDK's sources, compiled in so that a new plugin builds offline, anywhere.
const SDK_SOURCES: &[(&str, &str)] = &[
    ("errors.rs", include_str!("../../rules-plugins/sdk/src/errors.rs")),
    ("lib.rs", include_str!("../../rules-plugins/sdk/src/lib.rs")),
    ("read.rs", include_str!("../../rules-plugins/sdk/src/read.rs")),
    ("rt.rs", include_str!("../../rules-plugins/sdk/src/rt.rs")),
    ("setup.rs", include_str!("../../rules-plugins/sdk/src/setup.rs")),
    ("testing.rs", include_str!("../../rules-plugins/sdk/src/testing.rs")),
    ("tests.rs", include_str!("../../rules-plugins/sdk/src/tests.rs")),
    ("verdict.rs", include_str!("../../rules-plugins/sdk/src/verdict.rs")),
    ("view.rs", include_str!("../../rules-plugins/sdk/src/view.rs")),
];

/// The plugin workspace's manifest, for the SDK's version.
const PLUGINS_WORKSPACE_MANIFEST: &str = include_str!("../../rules-plugins/Cargo.toml");

/// The SDK's version: `[workspace.package] version` of the rules-plugins workspace.
fn sdk_version() -> &'static str {
    PLUGINS_WORKSPACE_MANIFEST
        .lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| l.trim().strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or("0.0.0")
}

/// Every file of the new crate, as (path relative to its directory, contents).
fn scaffold(name: &str) -> Vec<(String, String)> {
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{wasm}}", &wasm_name(name))
            .replace("{{sdk_version}}", sdk_version())
    };
    let mut files = vec![
        ("Cargo.toml".to_owned(), fill(CARGO_TOML)),
        (".cargo/config.toml".to_owned(), CARGO_CONFIG.to_owned()),
        (".gitignore".to_owned(), "/target\n".to_owned()),
        ("rustfmt.toml".to_owned(), RUSTFMT_TOML.to_owned()),
        ("README.md".to_owned(), fill(README)),
        ("src/lib.rs".to_owned(), fill(LIB_RS)),
        ("rules.json".to_owned(), fill(RULES_JSON)),
        ("sdk/Cargo.toml".to_owned(), fill(SDK_CARGO_TOML)),
    ];
    files.extend(SDK_SOURCES.iter().map(|(file, text)| (format!("sdk/src/{file}"), (*text).to_owned())));
    files
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
description = "A Rallypoint rule plugin"
version = "0.1.0"
edition = "2024"
rust-version = "1.95"
publish = false

[lib]
# A WebAssembly module with the plugin ABI's exports (built by `cargo build --release`,
# for wasm32-unknown-unknown: see .cargo/config.toml).
crate-type = ["cdylib"]

[dependencies]
# A copy of Rallypoint's plugin SDK, written by `rallypoint plugin new`.
rallypoint-plugin-sdk = { path = "sdk" }

# What the plugin host expects: a panic is a trap (no unwinding), and small, fast code.
[profile.release]
panic = "abort"
lto = true
opt-level = 3
codegen-units = 1

# A workspace of its own, so the plugin builds the same inside any other workspace.
[workspace]
"#;

/// Rallypoint's style, so that `cargo fmt` leaves the vendored SDK as it is.
const RUSTFMT_TOML: &str = "max_width = 120\nuse_small_heuristics = \"Max\"\n";

const CARGO_CONFIG: &str = r#"# Plugins are WebAssembly modules: `cargo build` targets wasm32-unknown-unknown.
# (Install it once with `rustup target add wasm32-unknown-unknown`.) To run the unit tests on
# your machine instead, pass your host target: see README.md.
[build]
target = "wasm32-unknown-unknown"
"#;

const SDK_CARGO_TOML: &str = r#"# rallypoint-plugin-sdk {{sdk_version}}, vendored by `rallypoint plugin new` from Rallypoint's
# rules-plugins/sdk. The API is documented in src/lib.rs (or `cargo doc -p
# rallypoint-plugin-sdk --open`); the binary contract in Rallypoint's rules-plugins/ABI.md.
[package]
name = "rallypoint-plugin-sdk"
description = "Write Rallypoint matchmaking rule plugins (wasm32) in Rust"
version = "{{sdk_version}}"
edition = "2024"
rust-version = "1.95"
license = "Apache-2.0"
publish = false

[dependencies]
"#;

const README: &str = r#"# {{name}}

A Rallypoint matchmaking rule, compiled to WebAssembly and run by the engine in a sandbox.
`src/lib.rs` holds the rule (to start with: the teams' average skills may differ by at most
`maxGap`); `sdk/` is a copy of the plugin SDK it uses.

## Build

```sh
rustup target add wasm32-unknown-unknown   # once
cargo build --release
```

The module is `target/wasm32-unknown-unknown/release/{{wasm}}.wasm`
(`.cargo/config.toml` makes wasm32-unknown-unknown the default target).

## Check

```sh
rallypoint plugin check target/wasm32-unknown-unknown/release/{{wasm}}.wasm --rule-set rules.json
```

`rules.json` is a small 3v3 rule set that uses the plugin: the check sets the plugin up
with its rule's attributes and parameters, runs it on generated candidates with fuel
metering, reports fuel per candidate, and checks that two batchings give identical
verdicts. It also makes a starting point for your own rule set:
`rallypoint validate rules.json`.

## Test

The unit tests in `src/lib.rs` run the rule on your machine through the SDK's
`testing::Host`, so pass your host's target:

```sh
cargo test --target "$(rustc -vV | sed -n 's/^host: //p')"
```

## Use it in a rule set

A rule of type `plugin` names the module by its file stem, `{{wasm}}`:

```json
{ "name": "MyRule", "type": "plugin", "plugin": "{{wasm}}", "attributes": ["skill"], "parameters": { "maxGap": 100 }, "onError": "reject" }
```

`skill` must be a `number` in the rule set's `playerAttributes`. Point the engine at the
directory holding the module, e.g. `rallypoint simulate --plugin-dir
target/wasm32-unknown-unknown/release scenario.json`.

## Writing the rule

Read the SDK's crate documentation (`sdk/src/lib.rs`): what `score` may assume, partial
and complete candidates, scores, parties, filtering tickets, and what costs time. A rule
must be a pure function of its input, and must not import anything from the host.
"#;

const RULES_JSON: &str = r#"{
  "name": "{{wasm}}_example",
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{ "name": "skill", "type": "number", "default": 1500 }],
  "teams": [
    { "name": "red", "minPlayers": 3, "maxPlayers": 3 },
    { "name": "blue", "minPlayers": 3, "maxPlayers": 3 }
  ],
  "rules": [
    { "name": "SkillBand", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 400 },
    {
      "name": "MyRule",
      "type": "plugin",
      "plugin": "{{wasm}}",
      "attributes": ["skill"],
      "parameters": { "maxGap": 100 },
      "onError": "reject"
    }
  ],
  "expansions": [
    { "target": "rules[MyRule].parameters.maxGap", "steps": [{ "waitTimeSeconds": 20, "value": 200 }] }
  ]
}
"#;

const LIB_RS: &str = r#"//! {{name}}: a Rallypoint rule plugin.
//!
//! The rule: the teams' average `skill` may differ by at most `maxGap`. Among alternative
//! team assignments for the same players, the engine proposes the one with the highest
//! score, here the one with the smallest gap.

use rallypoint_plugin_sdk::{Attr, Candidate, Param, Rule, Setup, SetupError, Verdict, export_rule, kind};

/// The rule's state: handles on its attribute and parameter, looked up once.
struct SkillGap {
    /// The `skill` attribute: a number per player (for a party, the party's average).
    skill: Attr<kind::Number>,
    /// The `maxGap` parameter. Expansions can change it: read the value in force from each
    /// candidate.
    max_gap: Param,
}

impl Rule for SkillGap {
    /// Runs once per plugin instance, with the rule as the rule set declares it. Look up
    /// everything by name here; an error refuses the plugin.
    fn new(setup: &Setup) -> Result<Self, SetupError> {
        // Fails if `skill` is not in the rule's `attributes` or is not a number.
        let skill = setup.attribute("skill")?;
        let max_gap = setup.parameter("maxGap")?;
        let base = setup.base_value(max_gap);
        if base.is_nan() || base < 0.0 {
            return Err(SetupError::InvalidParameter);
        }
        Ok(SkillGap { skill, max_gap })
    }

    /// Runs once per candidate match. It must be a pure function of the candidate (no
    /// state kept between calls).
    fn score(&self, c: &Candidate<'_>) -> Verdict {
        // A match under construction: the players still to come can move any average, so
        // only the finished match is judged.
        if !c.is_complete() {
            return Verdict::pass();
        }
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for team in c.teams().filter(|t| !t.is_empty()) {
            let average = team.players().map(|p| p.number(self.skill)).sum::<f64>() / team.len() as f64;
            low = low.min(average);
            high = high.max(average);
        }
        // 0 when fewer than two teams have players.
        let gap = if high >= low { high - low } else { 0.0 };
        if gap <= c.param(self.max_gap) { Verdict::pass_with_score(-gap) } else { Verdict::fail() }
    }
}

// The plugin's exports (the ABI), generated for `SkillGap`.
export_rule!(SkillGap);

#[cfg(test)]
mod tests {
    use super::*;
    use rallypoint_plugin_sdk::AttributeKind;
    use rallypoint_plugin_sdk::testing::{Host, TestCandidate, TestSetup, Value};

    #[test]
    fn passes_when_the_team_averages_are_within_max_gap() {
        let setup = TestSetup::new()
            .attribute("skill", AttributeKind::Number)
            .parameter("maxGap", 100.0)
            .teams(&["red", "blue"]);
        let mut host = Host::<SkillGap>::new(&setup).unwrap();
        // The player table: rows 0, 1 and 2, one `skill` value each.
        host.load_players(&[vec![Value::number(1000.0)], vec![Value::number(1050.0)], vec![Value::number(1300.0)]])
            .unwrap();
        let verdicts = host
            .score(&[
                TestCandidate::complete(&[&[0], &[1]]),                       // gap 50
                TestCandidate::complete(&[&[0], &[2]]),                       // gap 300
                TestCandidate::complete(&[&[0], &[2]]).with_params(&[400.0]), // after an expansion
                TestCandidate::partial(&[&[0], &[2]]),                        // not finished: not judged yet
            ])
            .unwrap();
        assert_eq!(
            verdicts,
            [Verdict::pass_with_score(-50.0), Verdict::fail(), Verdict::pass_with_score(-300.0), Verdict::pass()]
        );
    }

    #[test]
    fn refuses_a_rule_without_max_gap() {
        let setup = TestSetup::new().attribute("skill", AttributeKind::Number);
        assert_eq!(Host::<SkillGap>::new(&setup).err(), Some(SetupError::MissingParameter.code()));
    }
}
"#;

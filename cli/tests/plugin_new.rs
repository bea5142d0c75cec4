//! `rallypoint plugin new` as a plugin author uses it: the scaffold builds, offline, into a
//! module the plugin host accepts, and the command never overwrites anything.

use std::path::Path;
use std::process::{Command, Output};

fn rallypoint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rallypoint")).args(args).current_dir(dir).output().expect("the binary runs")
}

use rallypoint_tests::TempDir;

fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("plugin-new-{name}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs cargo (the one running these tests) in `dir`, with its own target dir.
fn cargo(dir: &Path, target_dir: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("cargo runs")
}

/// The files under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A module's number of imports and its export names, read from its sections.
fn imports_and_exports(wasm: &[u8]) -> (u32, Vec<String>) {
    fn leb(bytes: &[u8], i: &mut usize) -> u32 {
        let (mut value, mut shift) = (0u32, 0);
        loop {
            let byte = bytes[*i];
            *i += 1;
            value |= u32::from(byte & 0x7f) << shift;
            shift += 7;
            if byte < 0x80 {
                return value;
            }
        }
    }
    fn name(bytes: &[u8], i: &mut usize) -> String {
        let len = leb(bytes, i) as usize;
        *i += len;
        String::from_utf8(bytes[*i - len..*i].to_vec()).unwrap()
    }
    assert_eq!(wasm[..8], *b"\0asm\x01\0\0\0", "a core wasm module, version 1");
    let (mut imports, mut exports) = (0, Vec::new());
    let mut i = 8;
    while i < wasm.len() {
        let id = wasm[i];
        i += 1;
        let size = leb(wasm, &mut i) as usize;
        let mut j = i;
        match id {
            2 => imports = leb(wasm, &mut j),
            7 => {
                for _ in 0..leb(wasm, &mut j) {
                    exports.push(name(wasm, &mut j));
                    j += 1; // kind
                    leb(wasm, &mut j); // index
                }
            }
            _ => {}
        }
        i += size;
    }
    (imports, exports)
}

#[test]
fn the_scaffold_builds_offline_into_a_module_without_imports() {
    let tmp = temp_dir("build");
    let out = rallypoint(&tmp.0, &["plugin", "new", "elo-gap", "--dir", "plugins/elo-gap"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let crate_dir = tmp.join("plugins/elo-gap");
    assert!(stdout(&out).contains("cd plugins/elo-gap"), "{}", stdout(&out));
    assert!(stdout(&out).contains("cargo build --release"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("rallypoint plugin check target/wasm32-unknown-unknown/release/elo_gap.wasm"),
        "{}",
        stdout(&out)
    );

    // The vendored SDK is the SDK, file for file.
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules-plugins/sdk/src");
    assert_eq!(files(&crate_dir.join("sdk/src")), files(&sdk), "every SDK source file is vendored");
    for file in files(&sdk) {
        let vendored = std::fs::read_to_string(crate_dir.join("sdk/src").join(&file)).unwrap();
        assert!(vendored == std::fs::read_to_string(sdk.join(&file)).unwrap(), "sdk/src/{file} differs");
    }
    let readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    assert!(readme.contains(r#""type": "plugin", "plugin": "elo_gap", "attributes": ["skill"]"#), "{readme}");
    assert!(readme.contains("rallypoint plugin check target/wasm32-unknown-unknown/release/elo_gap.wasm"));

    // `cargo build --release` as the README says (the config file picks the target), offline.
    let target_dir = tmp.join("target");
    let build = cargo(&crate_dir, &target_dir, &["build", "--release", "--offline"]);
    assert!(build.status.success(), "{}", stderr(&build));
    let wasm = std::fs::read(target_dir.join("wasm32-unknown-unknown/release/elo_gap.wasm")).expect("the module");
    let (imports, exports) = imports_and_exports(&wasm);
    assert_eq!(imports, 0, "a plugin imports nothing");
    let abi = ["rallypoint_abi_version", "rallypoint_buffer", "rallypoint_init", "rallypoint_load_players"];
    for export in ["memory", "rallypoint_score"].into_iter().chain(abi) {
        assert!(exports.iter().any(|e| e == export), "missing export {export}: {exports:?}");
    }
    assert!(!exports.iter().any(|e| e == "rallypoint_filter"), "the scaffold's rule does not filter");

    // The README's check passes on the module just built, with the scaffold's rule set,
    // which is itself a valid rule set.
    let module = target_dir.join("wasm32-unknown-unknown/release/elo_gap.wasm");
    let check = rallypoint(&crate_dir, &["plugin", "check", module.to_str().unwrap(), "--rule-set", "rules.json"]);
    let report = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{report}{}", stderr(&check));
    assert!(
        report.contains("rule 'MyRule' of rules.json: attributes [skill (number)], parameters [maxGap=100]"),
        "{report}"
    );
    assert!(report.contains("purity: two different batchings gave bit-identical verdicts"), "{report}");
    assert!(report.trim_end().ends_with("ok"), "{report}");
    let validate = rallypoint(&crate_dir, &["validate", "rules.json"]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));

    // The scaffold's own unit tests pass on the host, as its README says to run them.
    let rustc = Command::new("rustc").arg("-vV").output().expect("rustc runs");
    let host = stdout(&rustc).lines().find_map(|l| l.strip_prefix("host: ").map(str::to_owned)).expect("host");
    let test = cargo(&crate_dir, &target_dir, &["test", "--offline", "--target", &host]);
    assert!(test.status.success(), "{}{}", stdout(&test), stderr(&test));
    assert!(stdout(&test).contains("test result: ok. 2 passed"), "{}", stdout(&test));
}

#[test]
fn it_refuses_a_directory_that_is_not_empty_and_writes_nothing() {
    let tmp = temp_dir("exists");
    std::fs::create_dir_all(tmp.join("taken")).unwrap();
    std::fs::write(tmp.join("taken/notes.txt"), "mine").unwrap();
    let out = rallypoint(&tmp.0, &["plugin", "new", "taken"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("taken already exists and is not empty"), "{}", stderr(&out));
    assert_eq!(files(&tmp.join("taken")), ["notes.txt"]);
    assert_eq!(std::fs::read_to_string(tmp.join("taken/notes.txt")).unwrap(), "mine");

    std::fs::write(tmp.join("file"), "").unwrap();
    let out = rallypoint(&tmp.0, &["plugin", "new", "x", "--dir", "file"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));

    // An existing empty directory is fine; by default the crate goes to ./NAME.
    std::fs::create_dir(tmp.join("empty")).unwrap();
    let out = rallypoint(&tmp.0, &["plugin", "new", "fresh", "--dir", "empty"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(tmp.join("empty/src/lib.rs").is_file() && tmp.join("empty/.cargo/config.toml").is_file());
    let out = rallypoint(&tmp.0, &["plugin", "new", "by_default"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(tmp.join("by_default/Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"by_default\"") && manifest.contains("[workspace]"), "{manifest}");
}

#[test]
fn it_refuses_names_that_are_not_crate_names() {
    let tmp = temp_dir("names");
    let long = "a".repeat(65);
    for (name, why) in [
        ("", "empty"),
        ("9lives", "must start with a letter"),
        ("my rule", "' ' is not allowed"),
        ("règle", "'è' is not allowed"),
        ("../escape", "'.' is not allowed"),
        ("fn", "keyword"),
        ("std", "reserved"),
        ("rallypoint-plugin-sdk", "reserved"),
        (&long, "longer than 64"),
    ] {
        let out = rallypoint(&tmp.0, &["plugin", "new", name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(stderr(&out).contains(&format!("invalid plugin name '{name}'")), "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{name}: {}", stderr(&out));
    }
    assert!(files(&tmp.0).is_empty(), "nothing was written");
    // Missing arguments and unknown subcommands are usage errors.
    assert_eq!(rallypoint(&tmp.0, &["plugin", "new"]).status.code(), Some(2));
    assert_eq!(rallypoint(&tmp.0, &["plugin", "frobnicate"]).status.code(), Some(2));
}

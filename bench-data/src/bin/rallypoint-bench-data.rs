//! Writes generated workloads and rule sets to stdout.
//!
//! `rallypoint-bench-data large-ruleset [GROUPS]` prints the benchmark rule set.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("large-ruleset") => {
            let groups = args.get(1).and_then(|g| g.parse().ok()).unwrap_or(40);
            print!("{}", rallypoint_bench_data::rulesets::large_rule_set(groups));
        }
        _ => {
            eprintln!("usage: rallypoint-bench-data large-ruleset [GROUPS]");
            std::process::exit(2);
        }
    }
}

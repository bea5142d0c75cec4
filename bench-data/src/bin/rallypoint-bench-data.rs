//! Writes generated workloads and rule sets to stdout.
//!
//! * `rallypoint-bench-data large-ruleset [GROUPS]` prints the benchmark rule set.
//! * `rallypoint-bench-data generate --profile NAME --rate R --duration S [--tickets N] [--seed S]
//!   [--daily-cycle] [--bursts] [--cancel-share X] [--configuration NAME]` prints a workload as
//!   JSON lines.
//! * `rallypoint-bench-data ruleset NAME` prints a profile's rule set.

use std::io::Write;

use rallypoint_bench_data::generate::{WorkloadSpec, generate, write_jsonl};
use rallypoint_bench_data::profiles::Profile;

const USAGE: &str = "usage: rallypoint-bench-data large-ruleset [GROUPS]
       rallypoint-bench-data ruleset PROFILE
       rallypoint-bench-data generate --profile PROFILE --rate R --duration S [--tickets N] [--seed S]
                                      [--daily-cycle] [--bursts] [--cancel-share X] [--configuration NAME]
profiles: 1v1, 5v5, asymmetric, large, adversarial";

fn fail(message: &str) -> ! {
    eprintln!("error: {message}\n{USAGE}");
    std::process::exit(2);
}

fn profile(name: &str) -> Profile {
    Profile::from_name(name).unwrap_or_else(|| fail(&format!("unknown profile `{name}`")))
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> T {
    let value = value.unwrap_or_else(|| fail(&format!("{flag} needs a value")));
    value.parse().unwrap_or_else(|_| fail(&format!("{flag}: `{value}` is not a valid number")))
}

fn generate_command(args: &[String]) {
    let mut name = None;
    let mut rate = None;
    let mut duration = None;
    let mut tickets = None;
    let mut seed = 1u64;
    let mut daily_cycle = false;
    let mut bursts = false;
    let mut cancel_share = None;
    let mut configuration = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--profile" => name = Some(it.next().unwrap_or_else(|| fail("--profile needs a value")).clone()),
            "--configuration" => {
                configuration = Some(it.next().unwrap_or_else(|| fail("--configuration needs a value")).clone());
            }
            "--rate" => rate = Some(number::<f64>(flag, it.next())),
            "--duration" => duration = Some(number::<f64>(flag, it.next())),
            "--tickets" => tickets = Some(number::<usize>(flag, it.next())),
            "--seed" => seed = number(flag, it.next()),
            "--cancel-share" => cancel_share = Some(number::<f64>(flag, it.next())),
            "--daily-cycle" => daily_cycle = true,
            "--bursts" => bursts = true,
            other => fail(&format!("unknown argument `{other}`")),
        }
    }
    let profile = profile(&name.unwrap_or_else(|| fail("--profile is required")));
    let rate = rate.unwrap_or_else(|| fail("--rate is required"));
    let duration = duration.unwrap_or_else(|| fail("--duration is required"));
    if !(rate.is_finite() && rate >= 0.0 && duration.is_finite() && duration >= 0.0) {
        fail("--rate and --duration must be non-negative");
    }
    let mut spec = WorkloadSpec::new(profile, rate, duration, seed);
    spec.max_tickets = tickets;
    spec.daily_cycle = daily_cycle;
    spec.bursts = bursts;
    if let Some(share) = cancel_share {
        if !(0.0..=1.0).contains(&share) {
            fail("--cancel-share must be between 0 and 1");
        }
        spec.cancel_share = share;
    }
    if let Some(configuration) = configuration {
        spec.configuration = configuration;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = write_jsonl(generate(&spec), &mut out).and_then(|_| out.flush());
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("large-ruleset") => {
            let groups = args.get(1).and_then(|g| g.parse().ok()).unwrap_or(40);
            print!("{}", rallypoint_bench_data::rulesets::large_rule_set(groups));
        }
        Some("ruleset") => {
            let name = args.get(1).unwrap_or_else(|| fail("ruleset needs a profile name"));
            print!("{}", profile(name).rule_set_json());
        }
        Some("generate") => generate_command(&args[1..]),
        _ => fail("missing or unknown command"),
    }
}

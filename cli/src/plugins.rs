//! How the CLI finds the modules of `plugin` rules: `--plugin-dir` directories, then the
//! rule-set file's own directory; a path written in the rule (`plugins/odds.wasm`) is
//! relative to the rule-set file.

use std::path::{Path, PathBuf};

use rallypoint::matchmaker::{PluginModules, PluginStatus};

/// The `--plugin-dir` option, shared by the commands that run rule sets.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct PluginDirs {
    /// Directory holding plugin modules (`<name>.wasm`) for `plugin` rules; repeat for
    /// several. The rule-set file's directory is searched after these.
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub(crate) dirs: Vec<PathBuf>,
}

impl PluginDirs {
    /// The modules for a rule set whose file (if any) lives in `rule_set_dir`: the
    /// `--plugin-dir` directories, then `rule_set_dir`; paths in rules are relative to it.
    pub(crate) fn modules(&self, rule_set_dir: Option<&Path>) -> PluginModules {
        let mut modules = PluginModules { dirs: self.dirs.clone(), ..PluginModules::default() };
        modules.dirs.extend(rule_set_dir.map(Path::to_path_buf));
        modules.base_dir = rule_set_dir.map(Path::to_path_buf);
        modules
    }
}

/// One line per plugin rule on stderr: calls, candidates, failures by kind, breaker trips
/// and the last error.
pub(crate) fn print_status(statuses: &[PluginStatus]) {
    for s in statuses {
        let h = &s.health;
        let mut line = format!(
            "plugin rule '{}' ({}) in '{}': {} calls, {} candidates, {} failures",
            s.rule, s.plugin, s.configuration, h.calls, h.candidates, h.failures
        );
        if h.failures > 0 {
            let kinds = [
                ("timeouts", h.timeouts),
                ("traps", h.traps),
                ("memory refusals", h.memory_refusals),
                ("invalid outputs", h.invalid_outputs),
                ("guest errors", h.guest_errors),
            ];
            let parts: Vec<String> = kinds.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{n} {k}")).collect();
            line += &format!(" ({}), {} breaker trips", parts.join(", "), h.breaker_trips);
        }
        eprintln!("{line}");
        if let Some(e) = &h.last_error {
            eprintln!("  last error: {e}");
        }
    }
}

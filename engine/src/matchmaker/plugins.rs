//! Where a configuration's plugin rules get their modules, and binding them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::ApiError;
use crate::plugin::abi::{Setup, SetupParameter};
use crate::plugin::{Limits, PluginHost};
use crate::ruleset::{CompiledKind, CompiledRules, RuleKind, RuleSet};
use crate::search::plugins::{BoundPlugin, PluginRules, attr_kind};

/// The WebAssembly modules plugin rules may use.
///
/// A rule's `plugin` field is looked up first among the modules added with
/// [`PluginModules::insert`] (by the exact text the rule writes), then, for a plain name
/// such as `role_queue`, as `<dir>/role_queue.wasm` in each of [`PluginModules::dirs`] in
/// order; a path (`plugins/x.wasm`) is read relative to [`PluginModules::base_dir`].
/// Modules are read and compiled once, when a configuration is added, never during a cycle.
#[derive(Debug, Clone, Default)]
pub struct PluginModules {
    /// Directories searched for `<name>.wasm`.
    pub dirs: Vec<PathBuf>,
    /// Modules supplied by the embedder, by the name or path rules write.
    pub modules: HashMap<String, Arc<[u8]>>,
    /// What relative plugin paths are relative to (the CLI: the rule set's directory);
    /// `None` is the current directory.
    pub base_dir: Option<PathBuf>,
    /// Sandbox limits for every plugin this matchmaker loads.
    pub limits: Limits,
}

impl PluginModules {
    /// Supplies the module for rules that write `"plugin": name`.
    pub fn insert(&mut self, name: impl Into<String>, wasm: impl Into<Arc<[u8]>>) {
        self.modules.insert(name.into(), wasm.into());
    }

    /// The bytes of the module a rule names, or a message saying where it was looked for.
    fn find(&self, written: &str, is_path: bool) -> Result<Arc<[u8]>, String> {
        if let Some(m) = self.modules.get(written) {
            return Ok(m.clone());
        }
        let read = |path: &Path| std::fs::read(path).map(Arc::<[u8]>::from);
        if is_path {
            let path = self.base_dir.as_deref().unwrap_or(Path::new(".")).join(written);
            return read(&path).map_err(|e| format!("cannot read plugin file '{}': {e}", path.display()));
        }
        for dir in &self.dirs {
            let path = dir.join(format!("{written}.wasm"));
            if path.is_file() {
                return read(&path).map_err(|e| format!("cannot read plugin file '{}': {e}", path.display()));
            }
        }
        Err(if self.dirs.is_empty() {
            format!("plugin '{written}' was not found: no plugin directories are configured (pass --plugin-dir DIR)")
        } else {
            let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
            format!("plugin '{written}' was not found: no {written}.wasm in {}", dirs.join(", "))
        })
    }
}

impl PluginModules {
    /// Finds and loads the plugin of every plugin rule of `rule_set`, as adding a
    /// configuration would, without keeping them: `(rule index, what went wrong)` for each
    /// rule whose plugin cannot be found or is refused. For `rallypoint validate`.
    pub fn check(&self, rule_set: &RuleSet) -> Vec<(usize, String)> {
        let rules = crate::ruleset::compile(rule_set);
        let mut host: Option<PluginHost> = None;
        let mut problems = Vec::new();
        for (index, rule) in rule_set.rules.iter().enumerate() {
            let RuleKind::Plugin(source) = &rule.kind else { continue };
            let loaded = self.find(&source.plugin, source.is_path()).and_then(|wasm| {
                if host.is_none() {
                    host = Some(PluginHost::new(self.limits.clone()).map_err(|e| e.to_string())?);
                }
                let setup = plugin_setup(&rules, index).expect("a plugin rule");
                let host = host.as_ref().expect("created above");
                host.load(plugin_name(&source.plugin), &wasm, &setup, 1).map(drop).map_err(|e| e.to_string())
            });
            if let Err(problem) = loaded {
                problems.push((index, format!("rule '{}': {problem}", rule.name)));
            }
        }
        problems
    }
}

/// Loads and binds the plugin of every plugin rule of `rules`. `host` is created on first
/// need; `slots` is the number of worker slots each plugin gets.
pub(super) fn bind(
    rules: &CompiledRules,
    modules: &PluginModules,
    host: &mut Option<PluginHost>,
    slots: usize,
) -> Result<PluginRules, ApiError> {
    let mut bound = Vec::new();
    for (index, rule) in rules.rules().iter().enumerate() {
        let CompiledKind::Plugin { .. } = &rule.kind else { continue };
        let RuleKind::Plugin(source) = &rules.rule_set().rules[index].kind else { continue };
        let fail = |message: String| ApiError::InvalidRequest(format!("rule '{}': {message}", rule.name));
        let wasm = modules.find(&source.plugin, source.is_path()).map_err(fail)?;
        if host.is_none() {
            *host = Some(PluginHost::new(modules.limits.clone()).map_err(|e| fail(e.to_string()))?);
        }
        let setup = plugin_setup(rules, index).expect("a plugin rule");
        let name = plugin_name(&source.plugin);
        let plugin =
            host.as_ref().expect("created above").load(name, &wasm, &setup, slots).map_err(|e| fail(e.to_string()))?;
        bound.push(BoundPlugin::new(rules, index, plugin));
    }
    Ok(PluginRules { bound, cycle: 0 })
}

/// The setup record plugin rule `rule` of `rules` gives its plugin (rules-plugins/ABI.md),
/// or `None` if it is not a plugin rule.
pub fn plugin_setup(rules: &CompiledRules, rule: usize) -> Option<Setup> {
    let compiled = rules.rules().get(rule)?;
    let CompiledKind::Plugin { attributes, parameters, .. } = &compiled.kind else { return None };
    Some(Setup {
        rule_name: compiled.name.clone(),
        attributes: attributes
            .iter()
            .map(|&a| {
                let attr = &rules.rule_set().attributes[a];
                (attr.name.clone(), attr_kind(attr.ty))
            })
            .collect(),
        parameters: parameters
            .iter()
            .map(|p| SetupParameter { name: p.name.clone(), symbol: p.symbol.0, base: p.value.base })
            .collect(),
        teams: rules.teams().iter().map(|t| t.name.clone()).collect(),
    })
}

/// The name a plugin goes by (in messages and health): the file stem of a path, else the
/// name itself.
pub fn plugin_name(written: &str) -> &str {
    let file = written.rsplit(['/', '\\']).next().unwrap_or(written);
    file.strip_suffix(".wasm").unwrap_or(file)
}

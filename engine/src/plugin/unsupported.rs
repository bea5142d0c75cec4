//! Stand-ins for [`PluginHost`] and [`Plugin`] in builds without the `plugins` feature:
//! the same API, so callers need no `cfg`, but no host can be created, so no plugin can
//! exist (each type holds an uninhabited field and its methods are unreachable).

use std::convert::Infallible;

use super::abi::{self, Table, Verdict};
use super::{Limits, PluginError, PluginHealth};

/// The plugin host; this build cannot create one (feature `plugins` is off).
#[derive(Clone, Debug)]
pub struct PluginHost {
    never: Infallible,
}

impl PluginHost {
    /// Always fails: this build has no plugin support.
    ///
    /// # Errors
    ///
    /// Always [`PluginError::Unsupported`].
    pub fn new(limits: Limits) -> Result<PluginHost, PluginError> {
        let _ = limits;
        Err(PluginError::Unsupported)
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        match self.never {}
    }

    /// Loads a plugin (unreachable: no host exists in this build).
    ///
    /// # Errors
    ///
    /// None in practice.
    pub fn load(
        &self,
        name: &str,
        wasm: &[u8],
        setup: &abi::Setup,
        worker_slots: usize,
    ) -> Result<Plugin, PluginError> {
        let _ = (name, wasm, setup, worker_slots);
        match self.never {}
    }
}

/// A loaded plugin; none can exist in this build (feature `plugins` is off).
#[derive(Clone, Debug)]
pub struct Plugin {
    never: Infallible,
}

impl Plugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        match self.never {}
    }

    /// Whether the plugin exports `rallypoint_filter`.
    pub fn has_filter(&self) -> bool {
        match self.never {}
    }

    /// Whether to call the plugin in search cycle `cycle`.
    pub fn available(&self, cycle: u64) -> bool {
        let _ = cycle;
        match self.never {}
    }

    /// Scores a batch.
    ///
    /// # Errors
    ///
    /// None in practice.
    pub fn score(
        &self,
        cycle: u64,
        table: &Table,
        batch: &mut abi::Batch,
        out: &mut Vec<Verdict>,
    ) -> Result<(), PluginError> {
        let _ = (cycle, table, batch, out);
        match self.never {}
    }

    /// Filters tickets.
    ///
    /// # Errors
    ///
    /// None in practice.
    pub fn filter(
        &self,
        cycle: u64,
        table: &Table,
        tickets: &mut abi::TicketBatch,
        out: &mut Vec<bool>,
    ) -> Result<(), PluginError> {
        let _ = (cycle, table, tickets, out);
        match self.never {}
    }

    /// Scores a batch and returns the fuel used.
    ///
    /// # Errors
    ///
    /// None in practice.
    pub fn score_metered(
        &self,
        table: &Table,
        batch: &mut abi::Batch,
        out: &mut Vec<Verdict>,
    ) -> Result<u64, PluginError> {
        let _ = (table, batch, out);
        match self.never {}
    }

    /// The plugin's health counters.
    pub fn health(&self) -> PluginHealth {
        match self.never {}
    }
}

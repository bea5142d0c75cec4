//! The embedding API: a [`Matchmaker`] holds one ticket pool per matchmaking
//! configuration and runs FlexMatch's ticket lifecycle over it.
//!
//! It is sans-IO: every operation takes the current [`Time`] from the caller, and
//! [`Matchmaker::tick`] runs one matchmaking cycle at that time. Events go to the crossbeam
//! channel returned by [`Matchmaker::new`], in a deterministic order: the same requests,
//! times and seed give the same events for any number of worker threads.
//!
//! Cycle order: queued tickets start searching (`MatchmakingSearching`), tickets past
//! `RequestTimeoutSeconds` time out (`MatchmakingTimedOut`), then the search proposes
//! matches and each is emitted (`PotentialMatchCreated`, then `MatchmakingSucceeded` in
//! STANDALONE mode).

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use rayon::prelude::*;

/// Ticket and player ids are hashed on every request; foldhash is several times faster than
/// SipHash and still seeded per map.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use crate::api::{ApiError, AttributeValue, MatchmakingTicket, Player, StartMatchmakingRequest, TicketStatus};
use crate::config::{FlexMatchMode, MatchmakingConfiguration};
use crate::events::{
    self, Event, EventDetail, EventPlayer, EventReceiver, EventTicket, Name, RuleMetric, UuidGen, WaitEstimate,
};
use crate::expr::AttrType;
use crate::intern::{Interner, Key, Sym, SymSet};
use crate::pool::{MAX_LOCATIONS, NewPlayer, PlayerValue, Pool};
use crate::ruleset::{self, AttrValue, CompiledRules, RuleSet};
use crate::search::plugins::PluginRules;
use crate::search::{self, Proposal};
use crate::time::Time;

mod plugins;
mod stored;
pub use plugins::{PluginModules, plugin_name, plugin_setup};

/// Options for a [`Matchmaker`].
#[derive(Debug, Clone)]
pub struct MatchmakerOptions {
    /// Worker threads for the search; 0 uses one per core.
    pub threads: usize,
    /// Seed for generated ids (tickets without a caller-supplied id, matches, events).
    pub seed: u64,
    /// How long finished tickets stay visible to `describe_matchmaking`, in seconds;
    /// `None` keeps them for the matchmaker's lifetime.
    pub retention_seconds: Option<f64>,
    /// Region used in ARNs.
    pub region: String,
    /// Account id used in ARNs.
    pub account: String,
    /// Modules for `plugin` rules, and their sandbox limits.
    pub plugins: PluginModules,
}

impl MatchmakerOptions {
    /// Options with the given seed, all cores, 30 minutes of retention, region `local`.
    pub fn new(seed: u64) -> MatchmakerOptions {
        MatchmakerOptions {
            threads: 0,
            seed,
            retention_seconds: Some(1800.0),
            region: "local".to_owned(),
            account: "000000000000".to_owned(),
            plugins: PluginModules::default(),
        }
    }
}

/// The health of one plugin rule (see [`Matchmaker::plugin_status`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PluginStatus {
    /// The configuration.
    pub configuration: String,
    /// The plugin rule's name.
    pub rule: String,
    /// The plugin's name.
    pub plugin: String,
    /// Its counters.
    pub health: crate::plugin::PluginHealth,
}

/// What one [`Matchmaker::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleStats {
    /// Tickets that started searching.
    pub searching: usize,
    /// Tickets that timed out.
    pub timed_out: usize,
    /// Matches formed.
    pub matches: usize,
    /// Tickets placed in those matches.
    pub matched_tickets: usize,
    /// Tickets still waiting in the pools.
    pub waiting: usize,
    /// Anchors the search tried to build a match around.
    pub searched: usize,
    /// Anchors not searched because nothing that decided their last failed search has
    /// changed (the search's skip rule; see ARCHITECTURE.md).
    pub skipped: usize,
}

/// A request submitted through an [`Intake`], with where to send the answer.
#[derive(Debug)]
enum Command {
    Start(Time, StartMatchmakingRequest, Sender<Result<MatchmakingTicket, ApiError>>),
    Stop(Time, String, Sender<Result<(), ApiError>>),
}

/// A cloneable, `Send` handle through which any thread submits requests to a matchmaker
/// owned by another thread, without locks: requests travel over a crossbeam channel and are
/// applied, in arrival order, by [`Matchmaker::process_intake`] (which [`Matchmaker::tick`]
/// also calls first). Each call returns a receiver for the answer.
#[derive(Debug, Clone)]
pub struct Intake {
    tx: Sender<Command>,
}

impl Intake {
    /// Submits `StartMatchmaking`; the answer arrives once the owner processes its intake.
    pub fn start_matchmaking(
        &self,
        now: Time,
        request: StartMatchmakingRequest,
    ) -> Receiver<Result<MatchmakingTicket, ApiError>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if let Err(crossbeam_channel::SendError(Command::Start(_, _, reply))) =
            self.tx.send(Command::Start(now, request, tx))
        {
            let _ = reply.send(Err(ApiError::Internal("the matchmaker has shut down".into())));
        }
        rx
    }

    /// Submits `StopMatchmaking`; the answer arrives once the owner processes its intake.
    pub fn stop_matchmaking(&self, now: Time, ticket_id: &str) -> Receiver<Result<(), ApiError>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if let Err(crossbeam_channel::SendError(Command::Stop(_, _, reply))) =
            self.tx.send(Command::Stop(now, ticket_id.to_owned(), tx))
        {
            let _ = reply.send(Err(ApiError::Internal("the matchmaker has shut down".into())));
        }
        rx
    }
}

/// A FlexMatch-compatible matchmaker for one or more configurations.
#[derive(Debug)]
pub struct Matchmaker {
    intake_tx: Sender<Command>,
    intake_rx: Receiver<Command>,
    options: MatchmakerOptions,
    configs: Vec<ConfigState>,
    /// Configuration index by name and by the ARN the matchmaker gives it (requests may
    /// name a configuration either way).
    by_name: HashMap<String, usize>,
    /// Every known ticket (active, or finished within the retention period), with the
    /// indexes by ticket id and by player id.
    records: Records,
    /// `(end, record)` of finished tickets, in the order they finished.
    finished: VecDeque<(Time, RecordRef)>,
    /// Where events go, a batch at a time (see [`EventReceiver`]).
    events: Sender<Vec<Event>>,
    /// The events of the call in progress, sent when it returns ([`Matchmaker::flush`]).
    outbox: Vec<Event>,
    ids: UuidGen,
    /// Reused by `start_matchmaking` to encode a ticket's players.
    encode_scratch: Vec<u8>,
    convert_scratch: ConvertScratch,
    workers: rayon::ThreadPool,
    /// Runs plugin rules; created when the first configuration with one is added.
    plugin_host: Option<crate::plugin::PluginHost>,
}

#[derive(Debug)]
struct ConfigState {
    config: MatchmakingConfiguration,
    name: Name,
    arn: Name,
    rules: Arc<CompiledRules>,
    plugins: PluginRules,
    rule_names: Vec<Name>,
    team_names: Vec<Name>,
    pool: Pool,
    /// The rule set's strings (pinned) and the tickets' (reclaimed when none holds them).
    interner: Interner,
    /// Unpinned strings the interner may hold before the next cycle reclaims the unused ones.
    reclaim_at: usize,
    /// The least `reclaim_at` is set to after a reclaim ([`RECLAIM_MIN`]).
    reclaim_floor: usize,
    locations: Interner,
    /// The key of each declared attribute's name, in declaration order, to match the names
    /// each player sends against.
    attribute_keys: Vec<Key>,
    uses_player_ids: bool,
    /// Tickets submitted since the last cycle, in submission order.
    queued: Vec<RecordRef>,
    /// `(deadline, ticket)` in submission order, which is deadline order.
    deadlines: VecDeque<(Time, RecordRef)>,
    /// Pool slot → record index ([`NO_RECORD`] for a free slot).
    slot_ticket: Vec<u32>,
    /// `(passed, failed)` per rule from the failed anchor attempts of the ticket in each
    /// slot: `slot * rule_names.len() + rule`, zeroed when the slot is freed, grown to a
    /// slot's entries when it first records one. Indexed by slot, so folding a cycle's
    /// counts is an add per entry, not a hash-map lookup. Counts saturate at `u32::MAX`.
    slot_metrics: Vec<(u32, u32)>,
    /// Recent waits of matched tickets, in seconds.
    waits: VecDeque<u32>,
    /// `wait_estimate(&waits)`, refreshed whenever `waits` changes.
    estimate: Option<u32>,
}

impl ConfigState {
    /// The recorded `(passed, failed)` counts per rule of the ticket in `slot`, which is
    /// being freed; leaves the slot's counts at zero for its next ticket.
    fn take_metrics(&mut self, slot: u32) -> Box<[(u32, u32)]> {
        let n = self.rule_names.len();
        let at = slot as usize * n;
        let taken = self.slot_metrics.get(at..at + n).map_or_else(|| vec![(0, 0); n].into(), Box::from);
        self.clear_metrics(slot);
        taken
    }

    /// Zeroes the recorded counts of `slot`, which is being freed.
    fn clear_metrics(&mut self, slot: u32) {
        let n = self.rule_names.len();
        let at = slot as usize * n;
        if let Some(m) = self.slot_metrics.get_mut(at..at + n) {
            m.fill((0, 0));
        }
    }

    /// `ruleEvaluationMetrics` from per-rule `(passed, failed)` counts in rule order (a
    /// rule without a count shows 0/0).
    fn rule_metrics(&self, counts: &[(u32, u32)]) -> Vec<RuleMetric> {
        self.rule_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let (passed, failed) = counts.get(i).copied().unwrap_or_default();
                RuleMetric { rule_name: *name, passed_count: u64::from(passed), failed_count: u64::from(failed) }
            })
            .collect()
    }

    /// The tables a ticket's stored players are encoded against.
    fn tables(&self) -> stored::Tables<'_> {
        stored::Tables { rule_set: self.rules.rule_set(), interner: &self.interner, locations: &self.locations }
    }
}

/// `TicketRecord::slot` of a ticket that is not in a pool.
const NO_SLOT: u32 = u32::MAX;
/// `ConfigState::slot_ticket` of a free slot.
const NO_RECORD: u32 = u32::MAX;
/// `TicketRecord::team` before a match.
const NO_TEAM: u16 = u16::MAX;
/// Strings from tickets a configuration's interner holds before the first reclaim (see
/// `Matchmaker::reclaim_strings`): a table this size costs a few megabytes, and a
/// matchmaker whose tickets bring few distinct strings never reclaims.
const RECLAIM_MIN: usize = 1 << 16;

/// A reference to a record that outlives the ticket safely: queues and deadline lists hold
/// these, and an entry whose record was freed and reused no longer matches its generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RecordRef {
    index: u32,
    generation: u32,
}

/// `StatusReason`, without a string per ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    None,
    TimedOut,
    Cancelled,
    DuplicatePlayer,
}

impl Reason {
    fn text(self) -> Option<&'static str> {
        match self {
            Reason::None => None,
            Reason::TimedOut => Some(events::TIMED_OUT_REASON),
            Reason::Cancelled => Some(events::CANCELLED_REASON),
            Reason::DuplicatePlayer => Some(events::DUPLICATE_PLAYER_REASON),
        }
    }
}

/// `StatusMessage`, without a string per ticket; the rare "cannot be matched" explanations
/// live in [`Records::unmatchable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    None,
    TimedOut,
    Cancelled,
    Unmatchable,
}

impl Message {
    fn text(self) -> Option<&'static str> {
        match self {
            Message::None | Message::Unmatchable => None,
            Message::TimedOut => Some(events::TIMED_OUT_MESSAGE),
            Message::Cancelled => Some(events::CANCELLED_MESSAGE),
        }
    }
}

/// One ticket, compactly: strings are shared (`Arc`) with events; the request's players
/// are kept encoded (see [`stored`]).
#[derive(Debug)]
struct TicketRecord {
    id: Arc<str>,
    player_ids: Box<[Arc<str>]>,
    players: Box<[u8]>,
    start: Time,
    end: Option<Time>,
    slot: u32,
    config: u32,
    team: u16,
    status: TicketStatus,
    reason: Reason,
    message: Message,
}

/// The ticket records: a slab indexed by a dense `u32`, reused through a free list, and
/// two indexes that store record indices and hash strings the records hold, so each ticket
/// id and player id is stored once.
#[derive(Debug, Default)]
struct Records {
    slab: Vec<Option<TicketRecord>>,
    /// Generation of each slab entry; bumped when the entry is freed.
    generations: Vec<u32>,
    free: Vec<u32>,
    /// Ticket id → record index.
    by_id: hashbrown::HashTable<u32>,
    /// Player id → `record << 8 | player`, for the players of active tickets.
    active_players: hashbrown::HashTable<u64>,
    hasher: foldhash::fast::RandomState,
    /// `StatusMessage` of tickets that can never match, by record.
    unmatchable: HashMap<u32, Box<str>>,
}

impl Records {
    fn hash(&self, s: &str) -> u64 {
        use std::hash::BuildHasher as _;
        self.hasher.hash_one(s)
    }

    fn insert(&mut self, record: TicketRecord) -> RecordRef {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slab.push(None);
                self.generations.push(0);
                (self.slab.len() - 1) as u32
            }
        };
        let hash = self.hash(&record.id);
        self.slab[index as usize] = Some(record);
        let Records { slab, by_id, hasher, .. } = self;
        by_id.insert_unique(hash, index, |&i| {
            use std::hash::BuildHasher as _;
            hasher.hash_one(&*slab[i as usize].as_ref().expect("indexed records exist").id)
        });
        self.reference(index)
    }

    fn reference(&self, index: u32) -> RecordRef {
        RecordRef { index, generation: self.generations[index as usize] }
    }

    fn find(&self, id: &str) -> Option<u32> {
        let slab = &self.slab;
        self.by_id.find(self.hash(id), |&i| slab[i as usize].as_ref().is_some_and(|r| &*r.id == id)).copied()
    }

    fn iter(&self) -> impl Iterator<Item = (u32, &TicketRecord)> {
        self.slab.iter().enumerate().filter_map(|(i, r)| r.as_ref().map(|r| (i as u32, r)))
    }

    fn get(&self, index: u32) -> Option<&TicketRecord> {
        self.slab.get(index as usize)?.as_ref()
    }

    fn get_mut(&mut self, index: u32) -> Option<&mut TicketRecord> {
        self.slab.get_mut(index as usize)?.as_mut()
    }

    fn get_ref(&self, r: RecordRef) -> Option<&TicketRecord> {
        self.get(r.index).filter(|_| self.generations[r.index as usize] == r.generation)
    }

    fn get_mut_ref(&mut self, r: RecordRef) -> Option<&mut TicketRecord> {
        let current = self.generations.get(r.index as usize) == Some(&r.generation);
        self.get_mut(r.index).filter(|_| current)
    }

    /// The player id an `active_players` entry stands for.
    fn player_id(slab: &[Option<TicketRecord>], entry: u64) -> &str {
        let record = slab[(entry >> 8) as usize].as_ref().expect("indexed records exist");
        &record.player_ids[(entry & 0xFF) as usize]
    }

    /// The record of `player`'s active ticket.
    fn active_ticket_of(&self, player: &str) -> Option<u32> {
        let slab = &self.slab;
        self.active_players.find(self.hash(player), |&e| Self::player_id(slab, e) == player).map(|&e| (e >> 8) as u32)
    }

    /// Makes `index` the active ticket of each of its players.
    fn set_active_players(&mut self, index: u32) {
        let n = self.get(index).map_or(0, |r| r.player_ids.len());
        for k in 0..n {
            let id = &self.slab[index as usize].as_ref().expect("exists").player_ids[k];
            let hash = self.hash(id);
            let entry = u64::from(index) << 8 | k as u64;
            let Records { slab, active_players, hasher, .. } = self;
            let id = &slab[index as usize].as_ref().expect("exists").player_ids[k];
            match active_players.find_mut(hash, |&e| Self::player_id(slab, e) == &**id) {
                Some(e) => *e = entry,
                None => {
                    active_players.insert_unique(hash, entry, |&e| {
                        use std::hash::BuildHasher as _;
                        hasher.hash_one(Self::player_id(slab, e))
                    });
                }
            }
        }
    }

    /// Removes the players of `index` from the active players, where `index` is still
    /// their active ticket.
    fn clear_active_players(&mut self, index: u32) {
        let n = self.get(index).map_or(0, |r| r.player_ids.len());
        for k in 0..n {
            let hash = self.hash(&self.slab[index as usize].as_ref().expect("exists").player_ids[k]);
            let entry = u64::from(index) << 8 | k as u64;
            if let Ok(found) = self.active_players.find_entry(hash, |&e| e == entry) {
                found.remove();
            }
        }
    }

    fn remove(&mut self, index: u32) {
        let Some(r) = self.slab[index as usize].as_ref() else { return };
        let hash = self.hash(&r.id);
        if let Ok(found) = self.by_id.find_entry(hash, |&i| i == index) {
            found.remove();
        }
        self.slab[index as usize] = None;
        // (A cancelled unmatchable ticket's message changed, so check the map itself.)
        if !self.unmatchable.is_empty() {
            self.unmatchable.remove(&index);
        }
        self.generations[index as usize] = self.generations[index as usize].wrapping_add(1);
        self.free.push(index);
    }
}

/// Samples kept for wait estimates, and the fewest that give one.
const WAIT_SAMPLES: usize = 64;
const MIN_WAIT_SAMPLES: usize = 5;

impl Matchmaker {
    /// A matchmaker with no configurations, and the receiving end of its event stream.
    ///
    /// # Panics
    /// If the worker thread pool cannot be created.
    pub fn new(options: MatchmakerOptions) -> (Matchmaker, EventReceiver) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let workers = rayon::ThreadPoolBuilder::new()
            .num_threads(options.threads)
            .thread_name(|i| format!("rallypoint-search-{i}"))
            // Plugin calls run wasm on these threads: headroom beyond the 256 KiB wasm stack.
            .stack_size(4 << 20)
            .build()
            .expect("cannot start search threads");
        let ids = UuidGen::new(options.seed);
        let (intake_tx, intake_rx) = crossbeam_channel::unbounded();
        let mm = Matchmaker {
            intake_tx,
            intake_rx,
            options,
            configs: Vec::new(),
            by_name: HashMap::default(),
            records: Records::default(),
            finished: VecDeque::new(),
            events: tx,
            outbox: Vec::new(),
            ids,
            encode_scratch: Vec::new(),
            convert_scratch: ConvertScratch::default(),
            workers,
            plugin_host: None,
        };
        (mm, EventReceiver::new(rx))
    }

    /// Adds a configuration with its (validated) rule set.
    ///
    /// # Errors
    /// `InvalidRequest` when the name is taken or the configuration uses a capability this
    /// version does not have yet (acceptance, queue placement, large matches).
    pub fn add_configuration(&mut self, config: MatchmakingConfiguration, rule_set: &RuleSet) -> Result<(), ApiError> {
        if self.by_name.contains_key(&config.name) {
            return Err(ApiError::InvalidRequest(format!("a configuration named '{}' already exists", config.name)));
        }
        if config.flex_match_mode == FlexMatchMode::WithQueue {
            return Err(ApiError::InvalidRequest(
                "FlexMatchMode WITH_QUEUE needs game session placement, which this version does not have yet; use STANDALONE".into(),
            ));
        }
        if config.acceptance_required {
            return Err(ApiError::InvalidRequest(
                "AcceptanceRequired is not supported by this version yet; set it to false".into(),
            ));
        }
        if rule_set.is_large() {
            return Err(ApiError::InvalidRequest(format!(
                "rule set holds up to {} players; large matches (over 40) are not supported by this version yet",
                rule_set.max_players()
            )));
        }
        let rules = Arc::new(ruleset::compile(rule_set));
        let plugins = plugins::bind(
            &rules,
            &self.options.plugins,
            &mut self.plugin_host,
            self.workers.current_num_threads() + 1,
        )?;
        let uses_player_ids = rule_set.rules.iter().any(|r| match &r.kind {
            ruleset::RuleKind::Comparison { measurement, reference, .. }
            | ruleset::RuleKind::Collection { measurement, reference, .. } => {
                uses_player_id(&measurement.expr)
                    || matches!(reference, Some(ruleset::Reference::Expr(e)) if uses_player_id(&e.expr))
            }
            ruleset::RuleKind::Distance { measurement, .. } => uses_player_id(&measurement.expr),
            _ => false,
        });
        let name = Name::new(&config.name);
        let arn = Name::new(&crate::api::matchmaking_configuration_arn(
            &self.options.region,
            &self.options.account,
            &config.name,
        ));
        let state = ConfigState {
            rule_names: rules.rules().iter().map(|r| Name::new(&r.name)).collect(),
            team_names: rules.teams().iter().map(|t| Name::new(&t.name)).collect(),
            pool: Pool::new(&rules),
            plugins,
            interner: {
                let mut interner = rules.interner().clone();
                interner.pin();
                interner
            },
            reclaim_at: RECLAIM_MIN,
            reclaim_floor: RECLAIM_MIN,
            locations: Interner::new(),
            attribute_keys: rule_set.attributes.iter().map(|a| Key::of(&a.name)).collect(),
            uses_player_ids,
            queued: Vec::new(),
            deadlines: VecDeque::new(),
            slot_ticket: Vec::new(),
            slot_metrics: Vec::new(),
            waits: VecDeque::new(),
            estimate: None,
            rules,
            name,
            arn,
            config,
        };
        self.by_name.insert(state.config.name.clone(), self.configs.len());
        self.by_name.insert(state.arn.to_string(), self.configs.len());
        self.configs.push(state);
        Ok(())
    }

    /// The envelope fields for events of configuration `name` (region, account, custom data).
    pub fn envelope(&self, name: &str) -> events::EnvelopeContext {
        let custom = self.by_name.get(name).and_then(|&i| self.configs[i].config.custom_event_data.clone());
        events::EnvelopeContext {
            region: self.options.region.clone(),
            account: self.options.account.clone(),
            custom_event_data: custom,
        }
    }

    /// `StartMatchmaking`: creates a ticket in status `QUEUED`.
    ///
    /// A player already in an active ticket cancels that older ticket (status reason
    /// "Cancelled due to duplicate player", no event), as FlexMatch does. A ticket that can
    /// never match (a required attribute missing with no default, no latency data for a
    /// latency rule, a party larger than every team) is accepted, says why in its status
    /// message, and times out.
    ///
    /// # Errors
    /// `NotFound` for an unknown configuration; `InvalidRequest` for a malformed request
    /// (ticket id in use or malformed, 0 or more than 10 players, repeated player ids,
    /// attribute values of the wrong type).
    pub fn start_matchmaking(
        &mut self,
        now: Time,
        request: StartMatchmakingRequest,
    ) -> Result<MatchmakingTicket, ApiError> {
        let config_index = *self.by_name.get(request.configuration_name.as_str()).ok_or_else(|| {
            ApiError::NotFound(format!("no matchmaking configuration named '{}'", request.configuration_name))
        })?;
        if request.players.is_empty() || request.players.len() > 10 {
            return Err(ApiError::InvalidRequest(format!(
                "a ticket holds 1 to 10 players, this request has {}",
                request.players.len()
            )));
        }
        for (i, p) in request.players.iter().enumerate() {
            if p.player_id.is_empty() {
                return Err(ApiError::InvalidRequest(format!("Players[{i}].PlayerId is empty")));
            }
            if request.players[..i].iter().any(|q| q.player_id == p.player_id) {
                return Err(ApiError::InvalidRequest(format!("player '{}' appears twice in the request", p.player_id)));
            }
        }
        let ticket_id: Arc<str> = match &request.ticket_id {
            Some(id) => {
                if id.is_empty()
                    || id.len() > 128
                    || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                {
                    return Err(ApiError::InvalidRequest(format!(
                        "TicketId '{id}' must be 1 to 128 characters of letters, digits, '-' and '.'"
                    )));
                }
                if self.records.find(id).is_some() {
                    return Err(ApiError::InvalidRequest(format!("a ticket with id '{id}' already exists")));
                }
                id.as_str().into()
            }
            None => {
                Arc::from(self.ids.next_uuid().hyphenated().encode_lower(&mut events::Uuid::encode_buffer()) as &str)
            }
        };
        // Convert and check the players against the rule set before changing any state.
        let state = &mut self.configs[config_index];
        let unmatchable = convert_players(state, &request.players, &mut self.convert_scratch)?;
        let new_players = &self.convert_scratch.players[..request.players.len()];
        let encoded = stored::encode(
            &request.players,
            new_players,
            &self.convert_scratch.declared,
            &state.tables(),
            &mut self.encode_scratch,
        );

        // Duplicate players cancel their older tickets, silently.
        for p in &request.players {
            if let Some(old) = self.records.active_ticket_of(&p.player_id) {
                self.finish(old, now, TicketStatus::Cancelled, Reason::DuplicatePlayer, Message::None, None);
            }
        }
        let state = &mut self.configs[config_index];
        let player_ids: Box<[Arc<str>]> = request.players.iter().map(|p| Arc::from(p.player_id.as_str())).collect();
        let slot = match unmatchable {
            None => state.pool.insert(now, &self.convert_scratch.players[..request.players.len()]),
            Some(_) => NO_SLOT,
        };
        let rec = self.records.insert(TicketRecord {
            id: ticket_id.clone(),
            player_ids,
            players: encoded,
            start: now,
            end: None,
            slot,
            config: config_index as u32,
            team: NO_TEAM,
            status: TicketStatus::Queued,
            reason: Reason::None,
            message: if unmatchable.is_some() { Message::Unmatchable } else { Message::None },
        });
        self.records.set_active_players(rec.index);
        if let Some(message) = &unmatchable {
            self.records.unmatchable.insert(rec.index, message.as_str().into());
        }
        let deadline = now.plus_secs(f64::from(state.config.request_timeout_seconds));
        state.deadlines.push_back((deadline, rec));
        state.queued.push(rec);
        if slot != NO_SLOT {
            if state.slot_ticket.len() <= slot as usize {
                state.slot_ticket.resize(slot as usize + 1, NO_RECORD);
            }
            state.slot_ticket[slot as usize] = rec.index;
        }
        // The response shows the players as sent: the request's own, moved rather than
        // rebuilt from the stored form. So are the ticket id and the configuration's name,
        // when the request gave them (it may name the configuration by its ARN).
        let StartMatchmakingRequest { ticket_id: given_id, configuration_name, players } = request;
        let configuration_name =
            if configuration_name == state.config.name { configuration_name } else { state.config.name.clone() };
        Ok(MatchmakingTicket {
            ticket_id: given_id.unwrap_or_else(|| ticket_id.to_string()),
            configuration_name,
            configuration_arn: state.arn,
            status: TicketStatus::Queued,
            status_reason: None,
            status_message: unmatchable,
            start_time: now,
            end_time: None,
            players,
            estimated_wait_time: state.estimate,
        })
    }

    /// `StopMatchmaking`: cancels a ticket (`MatchmakingCancelled`).
    ///
    /// # Errors
    /// `NotFound` for an unknown ticket; `InvalidRequest` if it already finished.
    pub fn stop_matchmaking(&mut self, now: Time, ticket_id: &str) -> Result<(), ApiError> {
        let rec = self
            .records
            .find(ticket_id)
            .ok_or_else(|| ApiError::NotFound(format!("no ticket with id '{ticket_id}'")))?;
        let record = self.records.get(rec).expect("indexed records exist");
        match record.status {
            TicketStatus::Queued | TicketStatus::Searching | TicketStatus::RequiresAcceptance => {}
            TicketStatus::Placing => {
                return Err(ApiError::InvalidRequest(
                    "Matchmaking ticket is in PLACING status and cannot be canceled.".into(),
                ));
            }
            status => {
                return Err(ApiError::InvalidRequest(format!(
                    "ticket '{ticket_id}' has already finished with status {}",
                    status.as_str()
                )));
            }
        }
        let event = self.finish(rec, now, TicketStatus::Cancelled, Reason::Cancelled, Message::Cancelled, Some(true));
        if let Some(e) = event {
            self.send(e);
        }
        self.flush();
        Ok(())
    }

    /// `DescribeMatchmaking` for one ticket.
    pub fn ticket(&self, ticket_id: &str) -> Option<MatchmakingTicket> {
        self.describe(self.records.find(ticket_id)?)
    }

    fn describe(&self, rec: u32) -> Option<MatchmakingTicket> {
        let r = self.records.get(rec)?;
        let state = &self.configs[r.config as usize];
        let estimate = match r.status {
            TicketStatus::Queued | TicketStatus::Searching => state.estimate,
            _ => None,
        };
        let team = (r.team != NO_TEAM).then(|| &*state.team_names[r.team as usize]);
        Some(MatchmakingTicket {
            ticket_id: r.id.to_string(),
            configuration_name: state.config.name.clone(),
            configuration_arn: state.arn,
            status: r.status,
            status_reason: r.reason.text().map(str::to_owned),
            status_message: match r.message {
                Message::Unmatchable => self.records.unmatchable.get(&rec).map(|m| m.to_string()),
                m => m.text().map(str::to_owned),
            },
            start_time: r.start,
            end_time: r.end,
            players: stored::decode(&r.players, &r.player_ids, team, &state.tables()),
            estimated_wait_time: estimate,
        })
    }

    /// `DescribeMatchmaking`: the tickets that exist among `ticket_ids` (at most 10).
    ///
    /// # Errors
    /// `InvalidRequest` for more than 10 ids.
    pub fn describe_matchmaking(&self, ticket_ids: &[&str]) -> Result<Vec<MatchmakingTicket>, ApiError> {
        if ticket_ids.len() > 10 {
            return Err(ApiError::InvalidRequest(format!("at most 10 ticket ids per call, got {}", ticket_ids.len())));
        }
        Ok(ticket_ids.iter().filter_map(|id| self.ticket(id)).collect())
    }

    /// Every ticket still known (active, or finished within the retention period), sorted
    /// by start time and id.
    pub fn all_tickets(&self) -> Vec<MatchmakingTicket> {
        let mut ids: Vec<(Time, &Arc<str>, u32)> = self.records.iter().map(|(rec, r)| (r.start, &r.id, rec)).collect();
        ids.sort();
        ids.into_iter().filter_map(|(_, _, rec)| self.describe(rec)).collect()
    }

    /// Tickets waiting in the pools.
    pub fn waiting(&self) -> usize {
        self.configs.iter().map(|c| c.pool.len()).sum()
    }

    /// The health of every plugin rule of every configuration: calls, failures by kind,
    /// circuit-breaker trips and the last error, which names the plugin and what happened.
    pub fn plugin_status(&self) -> Vec<PluginStatus> {
        self.configs
            .iter()
            .flat_map(|c| {
                c.plugins.bound.iter().map(|b| PluginStatus {
                    configuration: c.config.name.clone(),
                    rule: c.rules.rules()[b.rule].name.clone(),
                    plugin: b.plugin.name().to_owned(),
                    health: b.plugin.health(),
                })
            })
            .collect()
    }

    /// A handle other threads use to submit requests (see [`Intake`]).
    pub fn intake(&self) -> Intake {
        Intake { tx: self.intake_tx.clone() }
    }

    /// Applies every request submitted through an [`Intake`] so far, in arrival order, and
    /// answers each. Returns how many were applied.
    pub fn process_intake(&mut self) -> usize {
        let mut n = 0;
        while let Ok(command) = self.intake_rx.try_recv() {
            n += 1;
            match command {
                Command::Start(now, request, reply) => {
                    let _ = reply.send(self.start_matchmaking(now, request));
                }
                Command::Stop(now, ticket_id, reply) => {
                    let _ = reply.send(self.stop_matchmaking(now, &ticket_id));
                }
            }
        }
        n
    }

    /// Runs one matchmaking cycle at time `now` on every configuration, after applying the
    /// requests waiting in the intake.
    pub fn tick(&mut self, now: Time) -> CycleStats {
        self.process_intake();
        let mut stats = CycleStats::default();
        for c in 0..self.configs.len() {
            self.tick_config(c, now, &mut stats);
        }
        self.expire_finished(now);
        self.reclaim_strings();
        self.flush();
        stats.waiting = self.waiting();
        stats
    }

    /// Frees the strings tickets brought that no ticket holds any more, in each
    /// configuration whose table has doubled since it last did (and holds at least
    /// [`RECLAIM_MIN`] of them). Marking reads every waiting ticket's run and every stored
    /// record of the configuration; waiting for the table to double spreads that over at
    /// least as many new strings as the table kept.
    fn reclaim_strings(&mut self) {
        for (c, state) in self.configs.iter_mut().enumerate() {
            if state.interner.unpinned() < state.reclaim_at {
                continue;
            }
            let mut in_use = SymSet::for_table(&state.interner);
            state.pool.mark_symbols(&mut in_use);
            for r in self.records.slab.iter().flatten().filter(|r| r.config as usize == c) {
                stored::mark_symbols(&r.players, r.player_ids.len(), &mut in_use);
            }
            state.interner.reclaim(&in_use);
            state.reclaim_at = (2 * state.interner.unpinned()).max(state.reclaim_floor);
        }
    }

    fn tick_config(&mut self, c: usize, now: Time, stats: &mut CycleStats) {
        // 1. QUEUED → SEARCHING.
        let estimate = match self.configs[c].estimate {
            Some(s) => WaitEstimate::Seconds(s),
            None => WaitEstimate::NotAvailable,
        };
        let queued = std::mem::take(&mut self.configs[c].queued);
        let mut searching = Vec::with_capacity(queued.len());
        for &rec in &queued {
            let Some(r) = self.records.get_mut_ref(rec) else { continue };
            if r.status != TicketStatus::Queued {
                continue;
            }
            r.status = TicketStatus::Searching;
            searching.push(rec.index);
        }
        stats.searching += searching.len();
        // The events are built on the search threads (they only read the records), with
        // the ids `next_uuid` would have given them one by one.
        let ids = self.ids.take(searching.len());
        let (records, name) = (&self.records, &self.configs[c].name);
        build_events(&self.workers, &mut self.outbox, &searching, searching.len(), |i, &rec| {
            let r = records.get(rec).expect("a searching ticket has a record");
            [Event {
                id: ids.nth(i),
                time: now,
                configuration_name: *name,
                detail: EventDetail::MatchmakingSearching {
                    tickets: vec![event_ticket(r, None)],
                    estimated_wait: estimate,
                },
            }]
        });
        // Keep the buffer for the next cycle's arrivals, but not a burst's worth of it.
        let mut queued = queued;
        queued.clear();
        queued.shrink_to((self.configs[c].pool.len() / 8).max(4096));
        self.configs[c].queued = queued;
        // 2. Timeouts, in submission order.
        while let Some((deadline, _)) = self.configs[c].deadlines.front() {
            if *deadline > now {
                break;
            }
            let (_, rec) = self.configs[c].deadlines.pop_front().expect("non-empty");
            let active = self
                .records
                .get_ref(rec)
                .is_some_and(|r| matches!(r.status, TicketStatus::Queued | TicketStatus::Searching));
            if active {
                stats.timed_out += 1;
                if let Some(e) = self.finish(
                    rec.index,
                    now,
                    TicketStatus::TimedOut,
                    Reason::TimedOut,
                    Message::TimedOut,
                    Some(false),
                ) {
                    self.send(e);
                }
            }
        }
        // 3. Search.
        let state = &mut self.configs[c];
        state.pool.refresh();
        state.plugins.cycle += 1;
        let output = {
            let pool = &state.pool;
            let rules = &state.rules;
            let plugins = &state.plugins;
            self.workers.install(|| search::search_cycle(pool, rules, plugins, now))
        };
        stats.searched += output.searched;
        stats.skipped += output.skipped;
        let state = &mut self.configs[c];
        let n_rules = state.rule_names.len();
        for &(slot, rule, pass, fail) in &output.anchor_metrics {
            let at = slot as usize * n_rules + rule as usize;
            if at >= state.slot_metrics.len() {
                // Grown on the first count of a slot: a pool whose anchors record nothing
                // (no rule ever evaluated) holds no table.
                state.slot_metrics.resize((slot as usize + 1) * n_rules, (0, 0));
            }
            let m = &mut state.slot_metrics[at];
            m.0 = m.0.saturating_add(pass);
            m.1 = m.1.saturating_add(fail);
        }
        state.pool.recycle_metrics(output.anchor_metrics);
        // 4. Emit matches: their events are built on the search threads from the records
        // as they are, then the records and the pool are updated here.
        let state = &self.configs[c];
        let ids = self.ids.take(3 * output.proposals.len());
        let records = &self.records;
        let tickets = output.proposals.iter().map(|p| p.tickets.len()).sum();
        build_events(&self.workers, &mut self.outbox, &output.proposals, tickets, |i, proposal| {
            match_events(state, records, proposal, now, &ids, 3 * i)
        });
        for proposal in &output.proposals {
            stats.matches += 1;
            stats.matched_tickets += proposal.tickets.len();
            self.commit_match(c, now, proposal);
        }
        if !output.proposals.is_empty() {
            let state = &mut self.configs[c];
            state.estimate = wait_estimate(&state.waits);
        }
    }

    /// Marks a proposed match's tickets completed and takes them out of the pool (its
    /// events are already built).
    fn commit_match(&mut self, c: usize, now: Time, proposal: &Proposal) {
        for &(slot, team) in &proposal.tickets {
            let state = &mut self.configs[c];
            let rec = std::mem::replace(&mut state.slot_ticket[slot as usize], NO_RECORD);
            state.pool.remove(slot);
            state.clear_metrics(slot);
            let r = self.records.get_mut(rec).expect("proposed slot holds a ticket");
            let wait = now.secs_since(r.start).max(0.0) as u32;
            if state.waits.len() == WAIT_SAMPLES {
                state.waits.pop_front();
            }
            state.waits.push_back(wait);
            r.slot = NO_SLOT;
            r.status = TicketStatus::Completed;
            r.end = Some(now);
            r.team = team;
            self.records.clear_active_players(rec);
            self.finished.push_back((now, self.records.reference(rec)));
        }
    }

    /// Moves a ticket to a terminal status; returns its event when `event` says which kind
    /// (`Some(true)` cancelled, `Some(false)` timed out) and `None` for silent endings.
    fn finish(
        &mut self,
        rec: u32,
        now: Time,
        status: TicketStatus,
        reason: Reason,
        message: Message,
        event: Option<bool>,
    ) -> Option<Event> {
        let r = self.records.get_mut(rec)?;
        r.status = status;
        r.end = Some(now);
        r.reason = reason;
        // A ticket that could never match keeps the message saying why: it is what a
        // client describing the timed-out ticket needs to know.
        let never_matchable = status == TicketStatus::TimedOut && r.slot == NO_SLOT && r.message != Message::None;
        if message != Message::None && !never_matchable {
            r.message = message;
        }
        let c = r.config as usize;
        let slot = std::mem::replace(&mut r.slot, NO_SLOT);
        let state = &mut self.configs[c];
        let recorded = (slot != NO_SLOT).then(|| {
            state.pool.remove(slot);
            state.slot_ticket[slot as usize] = NO_RECORD;
            state.take_metrics(slot)
        });
        let ticket = event.map(|_| event_ticket(r, None));
        self.records.clear_active_players(rec);
        self.finished.push_back((now, self.records.reference(rec)));
        let kind = event?;
        let state = &self.configs[c];
        let metrics = state.rule_metrics(recorded.as_deref().unwrap_or_default());
        let tickets = vec![ticket.expect("built when an event is wanted")];
        let detail = match kind {
            true => EventDetail::MatchmakingCancelled { tickets, rule_evaluation_metrics: metrics, match_id: None },
            false => EventDetail::MatchmakingTimedOut { tickets, rule_evaluation_metrics: metrics, match_id: None },
        };
        Some(self.event(c, now, detail))
    }

    /// Queues an event for the receiver. Events are produced on the owning thread, in a
    /// deterministic order, after the parallel part of the cycle.
    fn send(&mut self, event: Event) {
        self.outbox.push(event);
    }

    /// Sends the queued events as one batch: every public call that produces events ends
    /// with this, so its events reach the receiver when it returns. A caller that dropped
    /// the receiver gets none.
    fn flush(&mut self) {
        if !self.outbox.is_empty() {
            let _ = self.events.send(std::mem::take(&mut self.outbox));
        }
    }

    fn event(&mut self, c: usize, now: Time, detail: EventDetail) -> Event {
        Event { id: self.ids.next_uuid(), time: now, configuration_name: self.configs[c].name, detail }
    }

    fn expire_finished(&mut self, now: Time) {
        let Some(retention) = self.options.retention_seconds else { return };
        while let Some((end, _)) = self.finished.front() {
            if now.secs_since(*end) < retention {
                break;
            }
            let (_, rec) = self.finished.pop_front().expect("non-empty");
            if self.records.get_ref(rec).is_some_and(|r| r.status.is_terminal()) {
                self.records.remove(rec.index);
            }
        }
    }
}

fn event_ticket(r: &TicketRecord, team: Option<Name>) -> EventTicket {
    EventTicket {
        ticket_id: r.id.clone(),
        start_time: r.start,
        players: r
            .player_ids
            .iter()
            .map(|p| EventPlayer { player_id: p.clone(), team, accepted: None, player_session_id: None })
            .collect(),
    }
}

/// Event tickets built per rayon task at least: one takes a few hundred nanoseconds (its
/// ids, players and allocations), and waking the search threads some microseconds.
const TICKETS_PER_TASK: usize = 256;

/// Appends the `N` events `build(i, &items[i])` of every item to `outbox`, in item order:
/// on the search threads when the items hold enough tickets (`tickets` in all) to be worth
/// waking them.
fn build_events<T: Sync, const N: usize>(
    workers: &rayon::ThreadPool,
    outbox: &mut Vec<Event>,
    items: &[T],
    tickets: usize,
    build: impl Fn(usize, &T) -> [Event; N] + Sync,
) {
    if tickets < 2 * TICKETS_PER_TASK {
        outbox.extend(items.iter().enumerate().flat_map(|(i, item)| build(i, item)));
    } else {
        let per_task = (TICKETS_PER_TASK * items.len()).div_ceil(tickets).max(1);
        workers.install(|| {
            outbox.par_extend(
                items.par_iter().with_min_len(per_task).enumerate().flat_map_iter(|(i, item)| build(i, item)),
            );
        });
    }
}

/// A proposed match's `PotentialMatchCreated` and `MatchmakingSucceeded`, from its tickets'
/// records before the match is committed; `ids.nth(first)` is the match id and the next two
/// the events' ids.
fn match_events(
    state: &ConfigState,
    records: &Records,
    proposal: &Proposal,
    now: Time,
    ids: &UuidGen,
    first: usize,
) -> [Event; 2] {
    let tickets: Vec<EventTicket> = proposal
        .tickets
        .iter()
        .map(|&(slot, team)| {
            let rec = state.slot_ticket[slot as usize];
            let r = records.get(rec).expect("proposed slot holds a ticket");
            event_ticket(r, Some(state.team_names[team as usize]))
        })
        .collect();
    let metrics = state.rule_metrics(&proposal.metrics);
    let match_id = ids.nth(first).to_string();
    let event = |k: usize, detail: EventDetail| Event {
        id: ids.nth(first + k),
        time: now,
        configuration_name: state.name,
        detail,
    };
    [
        event(
            1,
            EventDetail::PotentialMatchCreated {
                tickets: tickets.clone(),
                acceptance_required: false,
                acceptance_timeout: None,
                rule_evaluation_metrics: metrics,
                match_id: match_id.clone(),
            },
        ),
        event(2, EventDetail::MatchmakingSucceeded { tickets, match_id, game_session: None }),
    ]
}

fn wait_estimate(waits: &VecDeque<u32>) -> Option<u32> {
    if waits.len() < MIN_WAIT_SAMPLES {
        return None;
    }
    let mut v: Vec<u32> = waits.iter().copied().collect();
    v.sort_unstable();
    Some(v[v.len() / 2])
}

fn uses_player_id(e: &crate::expr::Expr) -> bool {
    matches!(e.path().selection, crate::expr::Selection::PlayerId { .. })
}

/// The converted players of the request being admitted, and spare vectors: a ticket's
/// converted players are read by `Pool::insert` and the stored encoding and then no longer
/// needed, so their vectors are reused by the next request rather than allocated and freed
/// for each (two to six blocks a ticket).
#[derive(Debug, Default)]
struct ConvertScratch {
    /// The first `players.len()` entries are the request's; later ones are spares.
    players: Vec<NewPlayer>,
    lists: Vec<Vec<Sym>>,
    /// For each attribute the request's players send, in order (every player's in turn),
    /// the index of the declared attribute of that name, or [`UNDECLARED`].
    declared: Vec<u32>,
}

/// `ConvertScratch::declared` of an attribute the rule set does not declare.
const UNDECLARED: u32 = u32::MAX;

impl ConvertScratch {
    /// `n` cleared players, the string lists of their previous values kept for reuse.
    fn reset(&mut self, n: usize) {
        self.declared.clear();
        for p in &mut self.players {
            for value in p.values.drain(..) {
                if let Some(PlayerValue::List(mut l)) = value {
                    l.clear();
                    self.lists.push(l);
                }
            }
            p.latency.clear();
        }
        if self.players.len() < n {
            self.players.resize_with(n, || NewPlayer {
                id_sym: Sym(u32::MAX),
                values: Vec::new(),
                latency: Vec::new(),
            });
        }
    }
}

/// Converts request players for the pool into `scratch.players[..players.len()]`. Returns,
/// when the ticket can never match, the reason.
fn convert_players(
    state: &mut ConfigState,
    players: &[Player],
    scratch: &mut ConvertScratch,
) -> Result<Option<String>, ApiError> {
    let rule_set = state.rules.rule_set();
    let mut unmatchable: Option<String> = None;
    scratch.reset(players.len());
    let has_latency_rule = !state.pool.layout.latency_rules.is_empty();
    let ConvertScratch { players: out, lists, declared } = scratch;
    for (p, converted) in players.iter().zip(out.iter_mut()) {
        // Each sent name is matched against the declared ones once, by key (integer
        // compares for names of up to 16 bytes); the stored encoding reuses the result.
        let first = declared.len();
        for (name, _) in &p.attributes {
            let key = Key::of(name);
            let index = state
                .attribute_keys
                .iter()
                .zip(&rule_set.attributes)
                .position(|(k, a)| k.matches(&key, &a.name, name))
                .map_or(UNDECLARED, |i| i as u32);
            declared.push(index);
        }
        let sent = &declared[first..];
        let values = &mut converted.values;
        for (j, attr) in rule_set.attributes.iter().enumerate() {
            // A name sent twice counts at its first position, as `Player::attribute` reads.
            let given = sent.iter().position(|&d| d == j as u32).map(|k| &p.attributes[k].1);
            let value = match (given, &attr.default) {
                (Some(v), _) => Some(convert_value(&mut state.interner, lists, &attr.name, attr.ty, v)?),
                (None, Some(d)) => Some(convert_default(&mut state.interner, d)),
                (None, None) => {
                    unmatchable.get_or_insert_with(|| {
                        format!("player '{}' has no value for attribute '{}', which has no default; this ticket cannot be matched", p.player_id, attr.name)
                    });
                    None
                }
            };
            values.push(value);
        }
        let latency = &mut converted.latency;
        for (location, ms) in &p.latency_in_ms {
            let loc = match state.locations.get(location) {
                Some(s) => s,
                None if state.locations.len() < MAX_LOCATIONS => state.locations.intern(location),
                None => continue,
            };
            latency.push((loc.0 as u8, *ms));
        }
        if has_latency_rule && latency.is_empty() {
            unmatchable.get_or_insert_with(|| {
                format!("player '{}' reported no latency, and the rule set has a latency rule; this ticket cannot be matched", p.player_id)
            });
        }
        converted.id_sym = if state.uses_player_ids { state.interner.intern(&p.player_id) } else { Sym(u32::MAX) };
    }
    let out = &out[..players.len()];
    let largest_team = state.rules.teams().iter().map(|t| t.max_players.max_value()).fold(0.0, f64::max);
    if players.len() as f64 > largest_team {
        unmatchable.get_or_insert_with(|| {
            format!("the party of {} players is larger than every team (at most {largest_team}); this ticket cannot be matched", players.len())
        });
    }
    // A party that disagrees on a hard-key attribute (string batchDistance, all-equal
    // comparison) can never be in a match.
    for &attr in &state.pool.layout.shard_attrs {
        let first = out.first().and_then(|p| p.values[attr].as_ref());
        if out.iter().any(|p| !same_string(p.values[attr].as_ref(), first)) {
            unmatchable.get_or_insert_with(|| {
                format!("the party's players have different values of '{}', which all players of a match must share; this ticket cannot be matched", rule_set.attributes[attr].name)
            });
        }
    }
    Ok(unmatchable)
}

fn same_string(a: Option<&PlayerValue>, b: Option<&PlayerValue>) -> bool {
    match (a, b) {
        (Some(PlayerValue::String(x)), Some(PlayerValue::String(y))) => x == y,
        _ => false,
    }
}

/// `lists` are spare vectors for string-list values.
fn convert_value(
    interner: &mut Interner,
    lists: &mut Vec<Vec<Sym>>,
    name: &str,
    ty: AttrType,
    v: &AttributeValue,
) -> Result<PlayerValue, ApiError> {
    Ok(match (ty, v) {
        (AttrType::Number, AttributeValue::N(n)) => PlayerValue::Number(*n),
        (AttrType::String, AttributeValue::S(s)) => PlayerValue::String(interner.intern(s)),
        (AttrType::StringList, AttributeValue::SL(l)) => {
            let mut syms: Vec<Sym> = lists.pop().unwrap_or_default();
            for s in l {
                let sym = interner.intern(s);
                if !syms.contains(&sym) {
                    syms.push(sym);
                }
            }
            PlayerValue::List(syms)
        }
        (AttrType::StringNumberMap, AttributeValue::SDM(m)) => {
            PlayerValue::Map(m.iter().map(|(k, v)| (interner.intern(k), *v)).collect())
        }
        (ty, v) => {
            let sent = match v {
                AttributeValue::S(_) => "S (string)",
                AttributeValue::N(_) => "N (number)",
                AttributeValue::SL(_) => "SL (string list)",
                AttributeValue::SDM(_) => "SDM (string-to-number map)",
            };
            let want = match ty {
                AttrType::String => "S",
                AttrType::Number => "N",
                AttrType::StringList => "SL",
                AttrType::StringNumberMap => "SDM",
            };
            return Err(ApiError::InvalidRequest(format!(
                "attribute '{name}' is declared as {} in the rule set, so it must be sent as {want}, but the request sends {sent}",
                ty.name()
            )));
        }
    })
}

fn convert_default(interner: &mut Interner, d: &AttrValue) -> PlayerValue {
    match d {
        AttrValue::Number(n) => PlayerValue::Number(*n),
        AttrValue::String(s) => PlayerValue::String(interner.intern(s)),
        AttrValue::StringList(l) => PlayerValue::List(l.iter().map(|s| interner.intern(s)).collect()),
        AttrValue::StringNumberMap(m) => PlayerValue::Map(m.iter().map(|(k, v)| (interner.intern(k), *v)).collect()),
    }
}

#[cfg(test)]
mod tests;

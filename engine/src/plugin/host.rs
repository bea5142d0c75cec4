//! The wasmtime-backed plugin host (feature `plugins`): engine and epoch ticker, loading
//! and checking modules, per-thread workers, and mapping every wasmtime error to a
//! [`PluginError`]. See the parent module for the model; wasmtime types stay in here.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use wasmtime::{
    Config, Engine, EngineWeak, ExternType, FuncType, InstancePre, Linker, Memory, Module, ResourceLimiter, Store,
    Trap, TypedFunc, UpdateDeadline,
};

use super::abi::{self, BufferKind, SETUP_MAX_BYTES, Table, VERDICT_BYTES, Verdict};
use super::breaker::Breaker;
use super::{Limits, PluginError, PluginHealth};

/// Fuel per candidate or ticket of a call, when fuel is on.
const FUEL_PER_ITEM: u64 = 100_000;
/// Fuel for instantiation, init, table loads and buffer requests, when fuel is on.
const FUEL_COLD: u64 = 10_000_000;
/// Most elements a guest table may have.
const TABLE_ELEMENTS: usize = 10_000;
/// The shortest epoch tick the ticker accepts (a shorter one would busy-loop).
const MIN_EPOCH_TICK: Duration = Duration::from_micros(50);
/// The smallest buffer requested from a guest.
const MIN_BUFFER: usize = 256;

/// The wasmtime engine and epoch ticker shared by all plugins of a process.
///
/// Cheap to clone. Create one per process: each host has its own engine and ticker thread.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    limits: Limits,
}

impl fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginHost").field("limits", &self.inner.limits).finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Creates the engine (epoch interruption on, fuel if [`Limits::fuel`], the wasm stack
    /// cap, NaN canonicalisation on, relaxed SIMD off) and starts the epoch ticker thread,
    /// which ends by itself once the host and every plugin loaded with it are dropped.
    ///
    /// An `epoch_tick` below 50 µs is raised to 50 µs, and zero deadlines to one tick.
    ///
    /// # Errors
    ///
    /// [`PluginError::Internal`] if the engine cannot be configured or the thread cannot
    /// be started.
    pub fn new(limits: Limits) -> Result<PluginHost, PluginError> {
        let mut limits = limits;
        limits.epoch_tick = limits.epoch_tick.max(MIN_EPOCH_TICK);
        limits.call_deadline_ticks = limits.call_deadline_ticks.max(1);
        limits.init_deadline_ticks = limits.init_deadline_ticks.max(1);
        let host_error = |reason: String| PluginError::Internal { plugin: "<host>".to_owned(), reason };

        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .consume_fuel(limits.fuel)
            .max_wasm_stack(limits.max_wasm_stack)
            // Determinism: the same inputs give the same verdicts on every worker.
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false);
        let engine = Engine::new(&config).map_err(|err| host_error(format!("cannot configure wasmtime: {err:#}")))?;
        spawn_ticker(engine.weak(), limits.epoch_tick)
            .map_err(|err| host_error(format!("cannot start the epoch ticker thread: {err}")))?;
        Ok(PluginHost { inner: Arc::new(HostInner { engine, limits }) })
    }

    /// The limits in force (after the adjustments [`PluginHost::new`] makes).
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Compiles and checks a plugin for one rule.
    ///
    /// Refuses a module larger than [`Limits::module_max_bytes`], one that is not valid
    /// wasm, imports anything, lacks an export of the ABI or has one of the wrong type, or
    /// whose `rallypoint_abi_version` is not 1. Then instantiates it once on the calling
    /// thread and runs `rallypoint_init` with `setup`, so a plugin that cannot start is
    /// refused here rather than on the hot path; that instance becomes the worker of the
    /// last slot. `worker_slots` is the number of worker slots (the search passes its
    /// rayon thread count + 1; at least one is made).
    ///
    /// Compiling takes milliseconds: call this off the hot path.
    ///
    /// # Errors
    ///
    /// [`PluginError::Load`] saying what is wrong.
    pub fn load(
        &self,
        name: &str,
        wasm: &[u8],
        setup: &abi::Setup,
        worker_slots: usize,
    ) -> Result<Plugin, PluginError> {
        let refuse = |reason: String| PluginError::Load { plugin: name.to_owned(), reason };
        let limits = &self.inner.limits;
        if wasm.len() > limits.module_max_bytes {
            return Err(refuse(format!(
                "the module is {} bytes, more than the limit of {}",
                wasm.len(),
                super::Bytes(limits.module_max_bytes)
            )));
        }
        let module = Module::new(&self.inner.engine, wasm)
            .map_err(|err| refuse(format!("it is not a valid WebAssembly module: {err:#}")))?;
        if let Some(import) = module.imports().next() {
            return Err(refuse(format!(
                "it imports `{}::{}`, but plugins may import nothing",
                import.module(),
                import.name()
            )));
        }
        check_exports(&module).map_err(refuse)?;
        let has_filter = module.get_export("rallypoint_filter").is_some();

        let mut setup_bytes = Vec::new();
        setup.encode(&mut setup_bytes);
        if setup_bytes.len() > SETUP_MAX_BYTES {
            return Err(refuse(format!(
                "the setup record of its rule is {} bytes, more than the ABI's {}",
                setup_bytes.len(),
                super::Bytes(SETUP_MAX_BYTES)
            )));
        }
        let pre = Linker::new(&self.inner.engine)
            .instantiate_pre(&module)
            .map_err(|err| refuse(format!("it cannot be linked: {err:#}")))?;

        let slots = (0..worker_slots.max(1)).map(|_| Slot::default()).collect();
        let inner = PluginInner {
            name: name.to_owned(),
            host: Arc::clone(&self.inner),
            pre,
            setup: setup_bytes,
            has_filter,
            slots,
            breaker: Breaker::new(),
        };
        let worker = Worker::new(&inner).map_err(|(stage, err)| match err {
            PluginError::Load { .. } => err,
            _ => refuse(format!("{stage} {}", err.what())),
        })?;
        if let Some(last) = inner.slots.last() {
            *lock_slot(last) = Some(worker);
        }
        Ok(Plugin { inner: Arc::new(inner) })
    }
}

/// One loaded plugin for one rule, shared by all worker threads (cheap to clone).
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    name: String,
    host: Arc<HostInner>,
    pre: InstancePre<Limiter>,
    /// The encoded setup record, passed to every worker's `rallypoint_init`.
    setup: Vec<u8>,
    has_filter: bool,
    slots: Box<[Slot]>,
    breaker: Breaker,
}

/// A worker slot. The counters are per slot so that worker threads do not write to a
/// shared cache line on every call; they are updated under the slot's lock and read
/// without it.
#[derive(Default)]
struct Slot {
    worker: Mutex<Option<Worker>>,
    calls: AtomicU64,
    candidates: AtomicU64,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.inner.name)
            .field("has_filter", &self.inner.has_filter)
            .field("worker_slots", &self.inner.slots.len())
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// The name the plugin was loaded under.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Whether the plugin exports `rallypoint_filter`.
    pub fn has_filter(&self) -> bool {
        self.inner.has_filter
    }

    /// The circuit breaker: whether to call the plugin in search cycle `cycle` (a counter
    /// the caller increments each cycle). While this is false the rule's `onError` decides.
    pub fn available(&self, cycle: u64) -> bool {
        self.inner.breaker.available(cycle)
    }

    /// Scores `batch` against `table` into `out` (cleared first; one verdict per candidate,
    /// in order). An empty batch gives no verdicts without calling the plugin.
    ///
    /// Runs on this thread's worker (created, or rebuilt after a failure, on first use),
    /// which loads `table` first if it has not loaded this table yet. `cycle` is the
    /// search cycle, for the circuit breaker.
    ///
    /// # Errors
    ///
    /// Any failure of the call: the worker is discarded, the failure counted and the
    /// breaker told. `out` is then empty.
    pub fn score(
        &self,
        cycle: u64,
        table: &Table,
        batch: &mut abi::Batch,
        out: &mut Vec<Verdict>,
    ) -> Result<(), PluginError> {
        out.clear();
        let n = batch.len();
        if n == 0 {
            return Ok(());
        }
        let bytes = batch.encode();
        self.inner.run(Some(cycle), n, |worker, plugin| worker.score(plugin, table, bytes, n, out).map(drop))
    }

    /// Asks the plugin's `rallypoint_filter` which tickets to keep: `out` (cleared first)
    /// gets one `bool` per ticket, `true` = keep. A plugin without a filter keeps every
    /// ticket (and is not called).
    ///
    /// # Errors
    ///
    /// As [`Plugin::score`].
    pub fn filter(
        &self,
        cycle: u64,
        table: &Table,
        tickets: &mut abi::TicketBatch,
        out: &mut Vec<bool>,
    ) -> Result<(), PluginError> {
        out.clear();
        let n = tickets.len();
        if !self.inner.has_filter {
            out.resize(n, true);
            return Ok(());
        }
        if n == 0 {
            return Ok(());
        }
        let bytes = tickets.encode();
        self.inner.run(Some(cycle), n, |worker, plugin| worker.filter(plugin, table, bytes, n, out))
    }

    /// Like [`Plugin::score`], outside any search cycle (the breaker is left alone), and
    /// returns the fuel the `rallypoint_score` call consumed. For `rallypoint plugin check`.
    ///
    /// # Errors
    ///
    /// As [`Plugin::score`]; and [`PluginError::Internal`] if the host was created without
    /// [`Limits::fuel`].
    pub fn score_metered(
        &self,
        table: &Table,
        batch: &mut abi::Batch,
        out: &mut Vec<Verdict>,
    ) -> Result<u64, PluginError> {
        out.clear();
        if !self.inner.host.limits.fuel {
            return Err(self
                .inner
                .internal("fuel metering needs a plugin host created with `Limits { fuel: true, .. }`".into()));
        }
        let n = batch.len();
        if n == 0 {
            return Ok(0);
        }
        let bytes = batch.encode();
        self.inner.run(None, n, |worker, plugin| worker.score(plugin, table, bytes, n, out))
    }

    /// The plugin's health counters and breaker state.
    pub fn health(&self) -> PluginHealth {
        let mut health = self.inner.breaker.snapshot();
        for slot in self.inner.slots.iter() {
            health.calls += slot.calls.load(Ordering::Relaxed);
            health.candidates += slot.candidates.load(Ordering::Relaxed);
        }
        health
    }
}

impl PluginInner {
    /// Runs `f` on this thread's worker, creating it if needed, and does the bookkeeping:
    /// counters, breaker, and discarding the worker after a failure.
    fn run<T>(
        &self,
        cycle: Option<u64>,
        n_items: usize,
        f: impl FnOnce(&mut Worker, &PluginInner) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        let slot_idx =
            rayon::current_thread_index().filter(|&idx| idx < self.slots.len()).unwrap_or(self.slots.len() - 1);
        let slot = &self.slots[slot_idx];
        let mut guard = lock_slot(slot);
        slot.calls.fetch_add(1, Ordering::Relaxed);
        slot.candidates.fetch_add(n_items as u64, Ordering::Relaxed);

        // The worker is taken out and only put back after a success: any failure drops it
        // (its store, instance and memory), and the next call builds a fresh one.
        let res = match guard.take() {
            Some(worker) => Ok(worker),
            None => Worker::new(self).map_err(|(_, err)| err),
        }
        .and_then(|mut worker| {
            let res = f(&mut worker, self)?;
            *guard = Some(worker);
            Ok(res)
        });
        drop(guard);
        match &res {
            Ok(_) => self.breaker.success(cycle),
            Err(err) => self.breaker.failure(cycle, err),
        }
        res
    }

    /// Maps an error from a wasm call that had a deadline of `deadline_ticks`.
    fn classify(&self, err: wasmtime::Error, deadline_ticks: u64) -> PluginError {
        let plugin = self.name.clone();
        if err.is::<MemoryLimitHit>() {
            return PluginError::MemoryLimit { plugin, limit_bytes: self.host.limits.memory_bytes };
        }
        if err.is::<TableLimitHit>() {
            let trap = format!("tried to grow its table beyond {TABLE_ELEMENTS} elements");
            return PluginError::Trap { plugin, trap };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => {
                let tick_micros = u64::try_from(self.host.limits.epoch_tick.as_micros()).unwrap_or(u64::MAX);
                let millis = tick_micros.saturating_mul(deadline_ticks) / 1000;
                PluginError::Timeout { plugin, millis }
            }
            Some(Trap::OutOfFuel) => PluginError::OutOfFuel { plugin },
            Some(Trap::StackOverflow) => PluginError::StackOverflow { plugin },
            Some(trap) => PluginError::Trap { plugin, trap: describe_trap(*trap) },
            None => PluginError::Internal { plugin, reason: format!("{err:#}") },
        }
    }

    fn invalid(&self, what: &'static str) -> PluginError {
        PluginError::InvalidOutput { plugin: self.name.clone(), what }
    }

    fn internal(&self, reason: String) -> PluginError {
        PluginError::Internal { plugin: self.name.clone(), reason }
    }
}

/// What was being done when a worker could not be built, for load errors.
#[derive(Clone, Copy, Debug)]
enum Stage {
    Instantiate,
    Version,
    Init,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Instantiate => "while being instantiated, it",
            Stage::Version => "its `rallypoint_abi_version`",
            Stage::Init => "its `rallypoint_init`",
        })
    }
}

/// A guest buffer as the guest last returned it.
#[derive(Clone, Copy, Debug, Default)]
struct Buffer {
    ptr: usize,
    cap: usize,
}

/// Identifies the table a worker has loaded. The id changes when the table is cleared;
/// the shape also catches rows appended after a load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TableKey {
    id: u64,
    rows: u32,
    len: usize,
}

/// One plugin instance with its own store, owned by one slot.
struct Worker {
    store: Store<Limiter>,
    memory: Memory,
    buffer_fn: TypedFunc<(i32, i32), i32>,
    load_players_fn: TypedFunc<i32, i32>,
    score_fn: TypedFunc<i32, i32>,
    filter_fn: Option<TypedFunc<i32, i32>>,
    buffers: [Buffer; 3],
    table: Option<TableKey>,
}

impl Worker {
    /// Instantiates the plugin in a fresh store, checks its ABI version and runs
    /// `rallypoint_init`. The version is asked on every instance, not only at load: the
    /// ABI promises each instance that `rallypoint_abi_version` comes before its init.
    fn new(plugin: &PluginInner) -> Result<Worker, (Stage, PluginError)> {
        let limits = &plugin.host.limits;
        let cold_ticks = limits.init_deadline_ticks;
        let mut store = Store::new(
            &plugin.host.engine,
            Limiter { memory_bytes: limits.memory_bytes, overtime: Overtime::default() },
        );
        store.limiter(|limiter| limiter);
        let tick = limits.epoch_tick;
        store.epoch_deadline_callback(move |mut ctx| {
            Ok(on_deadline(&mut ctx.data_mut().overtime, tick, thread_cpu_time()))
        });
        arm(&mut store, plugin, cold_ticks, FUEL_COLD).map_err(|err| (Stage::Instantiate, err))?;
        let instance =
            plugin.pre.instantiate(&mut store).map_err(|err| (Stage::Instantiate, plugin.classify(err, cold_ticks)))?;

        // The exports' presence and types were checked at load; failing here would be a
        // bug in that check, reported rather than panicking.
        let missing =
            |what: &str| (Stage::Instantiate, plugin.internal(format!("the instance lacks the export `{what}`")));
        let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| missing("memory"))?;
        let version_fn = instance
            .get_typed_func::<(), i32>(&mut store, "rallypoint_abi_version")
            .map_err(|_| missing("rallypoint_abi_version"))?;
        let buffer_fn = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "rallypoint_buffer")
            .map_err(|_| missing("rallypoint_buffer"))?;
        let mut typed = |name: &str| instance.get_typed_func::<i32, i32>(&mut store, name).map_err(|_| missing(name));
        let init_fn = typed("rallypoint_init")?;
        let load_players_fn = typed("rallypoint_load_players")?;
        let score_fn = typed("rallypoint_score")?;
        let filter_fn = if plugin.has_filter { Some(typed("rallypoint_filter")?) } else { None };
        let mut worker = Worker {
            store,
            memory,
            buffer_fn,
            load_players_fn,
            score_fn,
            filter_fn,
            buffers: [Buffer::default(); 3],
            table: None,
        };

        arm(&mut worker.store, plugin, cold_ticks, FUEL_COLD).map_err(|err| (Stage::Version, err))?;
        let version =
            version_fn.call(&mut worker.store, ()).map_err(|err| (Stage::Version, plugin.classify(err, cold_ticks)))?;
        if version != abi::ABI_VERSION as i32 {
            let reason =
                format!("it speaks plugin ABI version {version}, but this host speaks version {}", abi::ABI_VERSION);
            return Err((Stage::Version, PluginError::Load { plugin: plugin.name.clone(), reason }));
        }

        let setup = &plugin.setup;
        let ptr = worker.buffer(plugin, BufferKind::Input, setup.len()).map_err(|err| (Stage::Init, err))?;
        worker.write(plugin, ptr, setup).map_err(|err| (Stage::Init, err))?;
        let ret = worker
            .call(plugin, &init_fn, to_i32(setup.len()), cold_ticks, FUEL_COLD)
            .map_err(|err| (Stage::Init, err))?;
        check_status(plugin, ret).map_err(|err| (Stage::Init, err))?;
        Ok(worker)
    }

    /// Scores an encoded batch of `n` candidates; returns the fuel the call used (0
    /// without fuel).
    fn score(
        &mut self,
        plugin: &PluginInner,
        table: &Table,
        batch: &[u8],
        n: usize,
        out: &mut Vec<Verdict>,
    ) -> Result<u64, PluginError> {
        self.ensure_table(plugin, table)?;
        let out_len = n.checked_mul(VERDICT_BYTES).ok_or_else(|| plugin.internal("batch too large".into()))?;
        let in_ptr = self.buffer(plugin, BufferKind::Input, batch.len())?;
        let out_ptr = self.buffer(plugin, BufferKind::Output, out_len)?;
        self.write(plugin, in_ptr, batch)?;
        let fuel = FUEL_PER_ITEM.saturating_mul(n as u64);
        let ticks = plugin.host.limits.call_deadline_ticks;
        let score_fn = self.score_fn.clone();
        let ret = self.call(plugin, &score_fn, to_i32(batch.len()), ticks, fuel)?;
        let used = self.fuel_used(fuel);
        check_count(plugin, ret, n, "it returned a count other than the number of candidates")?;
        let data = self.memory.data(&self.store);
        let verdicts = data
            .get(out_ptr..out_ptr + out_len)
            .ok_or_else(|| plugin.invalid("the output buffer lies outside its memory"))?;
        abi::decode_verdicts(verdicts, n, out).map_err(|what| plugin.invalid(what))?;
        Ok(used)
    }

    /// Filters an encoded batch of `n` tickets.
    fn filter(
        &mut self,
        plugin: &PluginInner,
        table: &Table,
        tickets: &[u8],
        n: usize,
        out: &mut Vec<bool>,
    ) -> Result<(), PluginError> {
        let Some(filter_fn) = self.filter_fn.clone() else {
            return Err(plugin.internal("the plugin has no `rallypoint_filter`".into()));
        };
        self.ensure_table(plugin, table)?;
        let in_ptr = self.buffer(plugin, BufferKind::Input, tickets.len())?;
        let out_ptr = self.buffer(plugin, BufferKind::Output, n)?;
        self.write(plugin, in_ptr, tickets)?;
        let fuel = FUEL_PER_ITEM.saturating_mul(n as u64);
        let ticks = plugin.host.limits.call_deadline_ticks;
        let ret = self.call(plugin, &filter_fn, to_i32(tickets.len()), ticks, fuel)?;
        check_count(plugin, ret, n, "it returned a count other than the number of tickets")?;
        let data = self.memory.data(&self.store);
        let bytes = data
            .get(out_ptr..out_ptr + n)
            .ok_or_else(|| plugin.invalid("the output buffer lies outside its memory"))?;
        abi::decode_filter(bytes, n, out).map_err(|what| plugin.invalid(what))
    }

    /// Loads `table` into the guest unless this worker has it loaded already.
    fn ensure_table(&mut self, plugin: &PluginInner, table: &Table) -> Result<(), PluginError> {
        let len = table.encoded_len();
        let key = TableKey { id: table.id(), rows: table.rows(), len };
        if self.table == Some(key) {
            return Ok(());
        }
        self.table = None;
        let ptr = self.buffer(plugin, BufferKind::Table, len)?;
        let (header, slots, heap) = table.parts();
        let dst = self.guest_slice(plugin, ptr, len)?;
        dst[..16].copy_from_slice(&header);
        dst[16..16 + slots.len()].copy_from_slice(slots);
        dst[len - heap.len()..].copy_from_slice(heap);
        let ticks = plugin.host.limits.init_deadline_ticks;
        let load_fn = self.load_players_fn.clone();
        let ret = self.call(plugin, &load_fn, to_i32(len), ticks, FUEL_COLD)?;
        check_status(plugin, ret)?;
        self.table = Some(key);
        Ok(())
    }

    /// The address of the guest's `kind` buffer, at least `min` bytes long, asking the
    /// guest for a bigger one only when the cached one is too small. Checks the address.
    fn buffer(&mut self, plugin: &PluginInner, kind: BufferKind, min: usize) -> Result<usize, PluginError> {
        let cached = self.buffers[kind as usize];
        if cached.ptr != 0 && cached.cap >= min {
            return Ok(cached.ptr);
        }
        // Grow by half again at least, so a slowly growing batch does not ask every time.
        let want = min.max(cached.cap + cached.cap / 2).max(MIN_BUFFER);
        let want = if i32::try_from(want).is_ok() { want } else { min };
        let Ok(want_i32) = i32::try_from(want) else {
            return Err(plugin.internal(format!("a buffer of {want} bytes is too large for a 32-bit guest")));
        };
        let ticks = plugin.host.limits.init_deadline_ticks;
        arm(&mut self.store, plugin, ticks, FUEL_COLD)?;
        let ret =
            self.buffer_fn.call(&mut self.store, (kind as i32, want_i32)).map_err(|err| plugin.classify(err, ticks))?;
        // A guest address is a u32 carried in an i32.
        let ptr = ret as u32 as usize;
        if ptr == 0 {
            return Err(plugin.invalid("`rallypoint_buffer` could not provide a buffer (returned 0)"));
        }
        if !ptr.is_multiple_of(8) {
            return Err(plugin.invalid("`rallypoint_buffer` returned an address that is not 8-aligned"));
        }
        if ptr + want > self.memory.data_size(&self.store) {
            return Err(plugin.invalid("`rallypoint_buffer` returned a buffer that lies outside its memory"));
        }
        self.buffers[kind as usize] = Buffer { ptr, cap: want };
        if kind == BufferKind::Table {
            // The guest may keep reading the old table in place; it has moved.
            self.table = None;
        }
        Ok(ptr)
    }

    fn write(&mut self, plugin: &PluginInner, ptr: usize, bytes: &[u8]) -> Result<(), PluginError> {
        self.guest_slice(plugin, ptr, bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// `len` bytes of guest memory at `ptr`, bounds-checked (memory never shrinks, so a
    /// buffer checked when it was returned stays inside, but checking again is cheap).
    fn guest_slice(&mut self, plugin: &PluginInner, ptr: usize, len: usize) -> Result<&mut [u8], PluginError> {
        self.memory
            .data_mut(&mut self.store)
            .get_mut(ptr..ptr.saturating_add(len))
            .ok_or_else(|| plugin.invalid("a buffer lies outside its memory"))
    }

    /// Calls a `(len) -> status` export with a deadline of `ticks` and, when fuel is on,
    /// a budget of `fuel`.
    fn call(
        &mut self,
        plugin: &PluginInner,
        func: &TypedFunc<i32, i32>,
        arg: i32,
        ticks: u64,
        fuel: u64,
    ) -> Result<i32, PluginError> {
        arm(&mut self.store, plugin, ticks, fuel)?;
        func.call(&mut self.store, arg).map_err(|err| plugin.classify(err, ticks))
    }

    /// The fuel used since the store was given `budget` (0 when fuel is off).
    fn fuel_used(&self, budget: u64) -> u64 {
        self.store.get_fuel().map_or(0, |left| budget.saturating_sub(left))
    }
}

/// Sets the epoch deadline and, when fuel is on, the fuel budget for the next wasm entry.
fn arm(store: &mut Store<Limiter>, plugin: &PluginInner, ticks: u64, fuel: u64) -> Result<(), PluginError> {
    store.set_epoch_deadline(ticks);
    store.data_mut().overtime = Overtime::default();
    if plugin.host.limits.fuel {
        store.set_fuel(fuel).map_err(|err| plugin.internal(format!("cannot set fuel: {err:#}")))?;
    }
    Ok(())
}

/// Lengths passed to the guest. Callers have checked them against guest buffers, which
/// fit in a 32-bit memory, so they fit in `i32`... except for a buffer that the guest
/// returned at the very top of memory; saturating then makes the guest see a wrong length
/// rather than the host panic.
fn to_i32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// A status return: 0 is success, negative is the guest's error code.
fn check_status(plugin: &PluginInner, ret: i32) -> Result<(), PluginError> {
    match ret {
        0 => Ok(()),
        code if code < 0 => Err(PluginError::Guest { plugin: plugin.name.clone(), code }),
        _ => Err(plugin.invalid("it returned a positive status (the ABI allows 0 or a negative code)")),
    }
}

/// A count return: negative is the guest's error code, anything but `n` is invalid.
fn check_count(plugin: &PluginInner, ret: i32, n: usize, wrong: &'static str) -> Result<(), PluginError> {
    if ret < 0 {
        return Err(PluginError::Guest { plugin: plugin.name.clone(), code: ret });
    }
    if ret as usize != n {
        return Err(plugin.invalid(wrong));
    }
    Ok(())
}

fn lock_slot(slot: &Slot) -> std::sync::MutexGuard<'_, Option<Worker>> {
    // A panic while a worker was in use leaves it in an unknown state: drop it.
    slot.worker.lock().unwrap_or_else(|poisoned: PoisonError<_>| {
        let mut guard = poisoned.into_inner();
        *guard = None;
        slot.worker.clear_poison();
        guard
    })
}

/// Advances the engine's epoch every `tick` until the engine is dropped.
fn spawn_ticker(engine: EngineWeak, tick: Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name("rallypoint-plugin-epoch".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(tick);
            match engine.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        }
    })?;
    Ok(())
}

/// The ABI's required function exports: name, number of `i32` parameters. Each returns
/// one `i32`.
const REQUIRED_FUNCS: [(&str, usize); 5] = [
    ("rallypoint_abi_version", 0),
    ("rallypoint_buffer", 2),
    ("rallypoint_init", 1),
    ("rallypoint_load_players", 1),
    ("rallypoint_score", 1),
];

fn check_exports(module: &Module) -> Result<(), String> {
    match module.get_export("memory") {
        Some(ExternType::Memory(memory)) if !memory.is_64() && !memory.is_shared() => {}
        Some(ExternType::Memory(_)) => {
            return Err("its memory is 64-bit or shared; plugins need a plain 32-bit memory".into());
        }
        Some(_) => return Err("its export `memory` is not a memory".into()),
        None => return Err("it does not export a memory named `memory`, which the ABI requires".into()),
    }
    let optional = [("rallypoint_filter", 1)];
    let funcs = REQUIRED_FUNCS.iter().map(|f| (f, true)).chain(optional.iter().map(|f| (f, false)));
    for (&(name, n_params), required) in funcs {
        match module.get_export(name) {
            Some(ExternType::Func(ty)) if !has_abi_type(&ty, n_params) => {
                return Err(format!(
                    "its export `{name}` has type {}, but the ABI needs {}",
                    signature(&ty),
                    abi_signature(n_params)
                ));
            }
            Some(ExternType::Func(_)) => {}
            Some(_) => return Err(format!("its export `{name}` is not a function")),
            None if required => {
                return Err(format!("it does not export `{name}`, which the ABI requires"));
            }
            None => {}
        }
    }
    Ok(())
}

fn has_abi_type(ty: &FuncType, n_params: usize) -> bool {
    ty.params().len() == n_params
        && ty.params().all(|p| p.is_i32())
        && ty.results().len() == 1
        && ty.results().all(|r| r.is_i32())
}

/// `(i32, i64) -> i32`
fn signature(ty: &FuncType) -> String {
    let list = |types: &mut dyn Iterator<Item = String>| types.collect::<Vec<_>>().join(", ");
    let params = list(&mut ty.params().map(|p| p.to_string()));
    let results = list(&mut ty.results().map(|r| r.to_string()));
    match ty.results().len() {
        0 => format!("({params}) -> ()"),
        1 => format!("({params}) -> {results}"),
        _ => format!("({params}) -> ({results})"),
    }
}

fn abi_signature(n_params: usize) -> String {
    format!("({}) -> i32", vec!["i32"; n_params].join(", "))
}

/// Plain words for a trap.
fn describe_trap(trap: Trap) -> String {
    match trap {
        Trap::UnreachableCodeReached => "wasm `unreachable` executed (a panic in the plugin)".into(),
        Trap::MemoryOutOfBounds => {
            "out-of-bounds memory access (in a Rust plugin, possibly its stack overflowing)".into()
        }
        Trap::IntegerDivisionByZero => "integer division by zero".into(),
        Trap::IntegerOverflow => "integer overflow".into(),
        Trap::BadConversionToInteger => "a float converted to an integer out of range".into(),
        Trap::TableOutOfBounds | Trap::IndirectCallToNull | Trap::BadSignature => {
            format!("a bad indirect call ({trap})")
        }
        other => other.to_string(),
    }
}

/// The store's resource limiter: caps linear memory (a grow beyond the cap traps, so it is
/// told apart from a guest that handles a refused grow), and allows one instance, one
/// memory and one table of at most [`TABLE_ELEMENTS`] elements.
struct Limiter {
    memory_bytes: usize,
    /// The current call's deadline state (see [`on_deadline`]).
    overtime: Overtime,
}

/// What the epoch-deadline callback knows about the current call. Reset by [`arm`] with two
/// field writes: reading a thread's CPU clock costs a system call (about 0.7 µs here, four
/// times a whole plugin call), so it is read only once a call has already run past its
/// deadline, which well-behaved calls never do.
#[derive(Clone, Copy, Default)]
struct Overtime {
    /// The thread's CPU time when the call first ran past its deadline.
    cpu_mark: Option<Duration>,
    /// Ticks the deadline has been extended by.
    extensions: u64,
}

/// Longest a call may be kept alive beyond its deadline while its thread is not getting
/// the CPU, in ticks. A guard, not a budget: it bounds a loop on a starved machine.
const MAX_EXTENSION_TICKS: u64 = 200;

/// The epoch deadline was reached. The deadline is wall time, and a thread the OS has
/// paused (another process, a busy machine) reaches it without having run: so the call
/// is given more time, tick by tick, and stopped once it has spent one more tick on the
/// CPU since it first overran. An infinite loop is therefore cut off one tick of its own
/// CPU time after the deadline (sooner in wall time on a quiet machine than on a busy
/// one); a healthy call that was merely descheduled finishes.
fn on_deadline(overtime: &mut Overtime, tick: Duration, now: Duration) -> UpdateDeadline {
    let mark = *overtime.cpu_mark.get_or_insert(now);
    if now.saturating_sub(mark) >= tick || overtime.extensions >= MAX_EXTENSION_TICKS {
        return UpdateDeadline::Interrupt;
    }
    overtime.extensions += 1;
    UpdateDeadline::Continue(1)
}

/// CPU time the calling thread has used (on platforms without a thread clock, wall time,
/// which makes the deadline a plain wall-clock one).
fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `clock_gettime` only writes the `timespec` we pass, which lives on our stack.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0));
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(MemoryLimitHit));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > TABLE_ELEMENTS {
            return Err(wasmtime::Error::new(TableLimitHit));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }
}

/// The limiter's marker for a refused memory grow, found again in the error chain.
#[derive(Debug)]
struct MemoryLimitHit;

impl fmt::Display for MemoryLimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory limit reached")
    }
}

impl std::error::Error for MemoryLimitHit {}

/// The limiter's marker for a refused table grow.
#[derive(Debug)]
struct TableLimitHit;

impl fmt::Display for TableLimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("table limit reached")
    }
}

impl std::error::Error for TableLimitHit {}

#[cfg(test)]
mod deadline_tests {
    use super::*;

    fn continues(u: UpdateDeadline) -> bool {
        matches!(u, UpdateDeadline::Continue(1))
    }

    #[test]
    fn an_overrun_is_stopped_after_one_more_tick_of_cpu_however_long_that_takes() {
        let tick = Duration::from_millis(1);
        let mut o = Overtime::default();
        let t0 = Duration::from_secs(7);
        assert!(continues(on_deadline(&mut o, tick, t0)), "the first overrun only marks the CPU clock");
        // Descheduled: ticks pass with little CPU; the call keeps running.
        assert!(continues(on_deadline(&mut o, tick, t0 + Duration::from_micros(200))));
        assert!(continues(on_deadline(&mut o, tick, t0 + Duration::from_micros(900))));
        // One tick of CPU since the first overrun, accumulated over several ticks: stop.
        assert!(matches!(on_deadline(&mut o, tick, t0 + tick), UpdateDeadline::Interrupt));
    }

    #[test]
    fn a_starved_call_is_still_stopped_after_the_extension_cap() {
        let tick = Duration::from_millis(1);
        let mut o = Overtime::default();
        let t0 = Duration::from_secs(1);
        for _ in 0..MAX_EXTENSION_TICKS {
            assert!(continues(on_deadline(&mut o, tick, t0)));
        }
        assert!(matches!(on_deadline(&mut o, tick, t0), UpdateDeadline::Interrupt));
    }

    #[test]
    fn the_thread_cpu_clock_advances_with_work() {
        let (before, wall) = (thread_cpu_time(), std::time::Instant::now());
        let mut x = 0u64;
        while thread_cpu_time() < before + Duration::from_millis(2) {
            x = std::hint::black_box(x.wrapping_add(1));
            assert!(wall.elapsed() < Duration::from_secs(10), "the CPU clock does not advance");
        }
        assert!(x > 0);
    }
}

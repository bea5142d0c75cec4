use super::*;
use crate::intern::Interner;

fn pool_for(rule_set: &str) -> (Pool, Interner) {
    let rule_set = crate::ruleset::check(rule_set).value.expect("valid rule set");
    let rules = crate::ruleset::compile(&rule_set);
    (Pool::new(&rules), rules.interner().clone())
}

fn player(values: Vec<Option<PlayerValue>>) -> NewPlayer {
    NewPlayer { id_sym: Sym(u32::MAX), values, latency: Vec::new() }
}

#[test]
fn shards_by_string_batch_and_all_equal_comparison_attributes() {
    let (mut pool, mut interner) = pool_for(
        r#"{"ruleLanguageVersion": "1.0",
          "playerAttributes": [{"name": "mode", "type": "string"}, {"name": "map", "type": "string"},
                               {"name": "skill", "type": "number"}],
          "teams": [{"name": "t", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
          "rules": [{"name": "SameMode", "type": "batchDistance", "batchAttribute": "mode"},
                    {"name": "SameMap", "type": "comparison", "operation": "=",
                     "measurements": "flatten(teams[*].players.attributes[map])"},
                    {"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 10}]}"#,
    );
    assert_eq!(pool.layout.shard_attrs, vec![0, 1]);
    let (ranked, casual, harbor, dunes) =
        (interner.intern("ranked"), interner.intern("casual"), interner.intern("harbor"), interner.intern("dunes"));
    for (mode, map, skill) in
        [(ranked, harbor, 5.0), (ranked, dunes, 1.0), (ranked, harbor, 3.0), (casual, harbor, 2.0)]
    {
        let values =
            vec![Some(PlayerValue::String(mode)), Some(PlayerValue::String(map)), Some(PlayerValue::Number(skill))];
        pool.insert(crate::time::Time(0), &[player(values)]);
    }
    pool.refresh();
    let mut shards: Vec<Vec<f64>> = pool.shards.iter().map(|s| s.entries.iter().map(|e| e.0).collect()).collect();
    shards.sort_by(|a, b| a[0].total_cmp(&b[0]));
    // Three shards (ranked/harbor, ranked/dunes, casual/harbor), each sorted by skill.
    assert_eq!(shards, vec![vec![1.0], vec![2.0], vec![3.0, 5.0]]);
}

#[test]
fn entries_stay_ordered_by_key_then_arrival_across_refreshes() {
    let (mut pool, _) = pool_for(
        r#"{"ruleLanguageVersion": "1.0",
          "playerAttributes": [{"name": "skill", "type": "number"}],
          "teams": [{"name": "t", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
          "rules": [{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 10}]}"#,
    );
    let insert = |pool: &mut Pool, skill: f64| {
        pool.insert(crate::time::Time(0), &[player(vec![Some(PlayerValue::Number(skill))])])
    };
    // Ties, both zeros, negatives and large keys, over three cycles, with departures
    // between them: the merged entries must be in (key by `total_cmp`, seq) order.
    let mut slots = Vec::new();
    for batch in
        [[3.0, -0.0, 0.0, 3.0, -7.5, 1e12], [0.0, 3.0, -0.0, -7.5, 2.5, 3.0], [3.0, -1e12, 0.0, 3.0, 1.0, -0.0]]
    {
        for skill in batch {
            slots.push(insert(&mut pool, skill));
        }
        pool.remove(slots[slots.len() - 4]);
        pool.refresh();
        let entries = &pool.shards[0].entries;
        assert!(
            entries.windows(2).all(|w| w[0].0.total_cmp(&w[1].0).then(w[0].1.cmp(&w[1].1)).is_lt()),
            "entries out of order: {:?}",
            entries.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>()
        );
        assert_eq!(entries.len(), slots.len() - slots.len() / 6, "one departure per cycle");
    }
}

#[test]
fn party_aggregates_and_latency_masks_are_computed_at_ingest() {
    let (mut pool, _) = pool_for(
        r#"{"ruleLanguageVersion": "1.0",
          "playerAttributes": [{"name": "skill", "type": "number"}],
          "teams": [{"name": "t", "minPlayers": 2, "maxPlayers": 4, "quantity": 2}],
          "rules": [{"name": "Ping", "type": "latency", "maxLatency": 50, "partyAggregation": "max"}],
          "expansions": [{"target": "rules[Ping].maxLatency", "steps": [{"waitTimeSeconds": 10, "value": 100}]}]}"#,
    );
    let mut a = player(vec![Some(PlayerValue::Number(1000.0))]);
    a.latency = vec![(0, 40), (1, 90), (2, 20)];
    let mut b = player(vec![Some(PlayerValue::Number(1400.0))]);
    b.latency = vec![(0, 45), (1, 60)];
    let slot = pool.insert(crate::time::Time(0), &[a, b]);
    assert_eq!([pool.number(slot, 0, 0), pool.number(slot, 0, 1), pool.number(slot, 0, 2)], [1000.0, 1400.0, 1200.0]);
    // Location 2 is not shared by the whole party; location 1's party latency (max) is 90.
    assert_eq!(pool.mask(slot, 0, 0), 0b001);
    assert_eq!(pool.mask(slot, 0, 1), 0b011);
}

/// Entry signatures tell up to ten locations and twelve list values apart (so the batch
/// scan's pre-check turns away a ticket at another of ten datacenters without reading its
/// columns), and still share a bit wherever the tickets share a location or a value.
#[test]
fn signatures_keep_ten_locations_and_twelve_values_apart() {
    let (mut pool, mut interner) = pool_for(
        r#"{"ruleLanguageVersion": "1.0",
          "playerAttributes": [{"name": "maps", "type": "string_list"}],
          "teams": [{"name": "t", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
          "rules": [{"name": "Ping", "type": "latency", "maxLatency": 50},
                    {"name": "SharedMap", "type": "collection", "operation": "intersection",
                     "measurements": "flatten(teams[*].players.attributes[maps])", "minCount": 1}]}"#,
    );
    let maps: Vec<Sym> = (0..14).map(|m| interner.intern(&format!("map{m}"))).collect();
    // Ticket i: location i only (acceptable), map i only; then one with all of both.
    let ticket = |locations: Vec<u8>, maps: Vec<Sym>| {
        let mut p = player(vec![Some(PlayerValue::List(maps))]);
        p.latency = locations.into_iter().map(|l| (l, 20)).collect();
        p
    };
    let mut slots: Vec<u32> =
        (0..14u8).map(|i| pool.insert(crate::time::Time(0), &[ticket(vec![i], vec![maps[i as usize]])])).collect();
    slots.push(pool.insert(crate::time::Time(0), &[ticket((0..14).collect(), maps.clone())]));
    pool.refresh();
    let sig = |slot: u32| pool.signature(slot);
    for i in 0..14 {
        for j in 0..14 {
            let (a, b) = (sig(slots[i]), sig(slots[j]));
            let latency_shared = a & b & SIGNATURE_EVERY_LEVEL != 0 && a & b & SIGNATURE_BASE_LEVEL != 0;
            let lists_shared = a & b & SIGNATURE_LISTS != 0;
            // Folding may only merge what it must: ten locations, twelve values.
            if i != j && i < 10 && j < 10 {
                assert!(!latency_shared, "locations {i} and {j} share a signature bit");
            }
            if i != j && i < 12 && j < 12 {
                assert!(!lists_shared, "maps {i} and {j} share a signature bit");
            }
            let everything = sig(slots[14]);
            assert!(a & everything & SIGNATURE_EVERY_LEVEL != 0 && a & everything & SIGNATURE_LISTS != 0);
            if i == j {
                assert!(latency_shared && lists_shared, "ticket {i} shares its own bits");
            }
        }
    }
}

/// Removes all but every tenth of `slots`, so that the arena `held` measures is mostly
/// garbage, and checks that the next refresh compacts it.
fn keep_every_tenth_and_compact(pool: &mut Pool, slots: &[u32], held: impl Fn(&Pool) -> usize) {
    for (i, &slot) in slots.iter().enumerate() {
        if i % 10 != 0 {
            pool.remove(slot);
        }
    }
    let before = held(pool);
    pool.refresh();
    assert!(held(pool) < before / 5, "compacted: {} of {before}", held(pool));
}

#[test]
fn kept_latencies_survive_compaction_of_departed_tickets() {
    let (mut pool, _) = pool_for(
        r#"{"ruleLanguageVersion": "1.0",
          "playerAttributes": [{"name": "skill", "type": "number"}],
          "teams": [{"name": "t", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
          "rules": [{"name": "Ping", "type": "latency", "maxLatency": 100, "maxDistance": 20, "distanceReference": "min"}]}"#,
    );
    // Ticket i reports locations 0..3 at 10 + i % 50, 20 + i % 50, 200 ms (the last never
    // acceptable, so not kept).
    let ticket = |pool: &mut Pool, i: u32| {
        let p = NewPlayer {
            id_sym: Sym(u32::MAX),
            values: vec![Some(PlayerValue::Number(f64::from(i)))],
            latency: vec![(0, 10 + i % 50), (1, 20 + i % 50), (2, 200)],
        };
        pool.insert(crate::time::Time(0), &[p])
    };
    let slots: Vec<u32> = (0..20_000).map(|i| ticket(&mut pool, i)).collect();
    // A ticket with no acceptable location keeps no latencies, before and after compaction.
    let far = NewPlayer {
        id_sym: Sym(u32::MAX),
        values: vec![Some(PlayerValue::Number(0.0))],
        latency: vec![(0, 300), (1, 400)],
    };
    let far = pool.insert(crate::time::Time(0), &[far]);
    assert_eq!(pool.latency(far), &[][..]);
    keep_every_tenth_and_compact(&mut pool, &slots, |pool| pool.latencies.held());
    for (i, &slot) in slots.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        let ms = (i % 50) as f32;
        assert_eq!(pool.latency(slot), &[(0, [10.0 + ms; 3]), (1, [20.0 + ms; 3])][..], "ticket {i}");
    }
    assert_eq!(pool.latency(far), &[][..]);
    // A slot reused after compaction gets its own latencies.
    let again = ticket(&mut pool, 7);
    assert_eq!(pool.latency(again), &[(0, [17.0; 3]), (1, [27.0; 3])][..]);
}

#[test]
fn player_ids_and_values_survive_compaction_of_departed_tickets() {
    let (mut pool, _) = pool_for(
        r#"{"ruleLanguageVersion": "1.0",
          "playerAttributes": [{"name": "mode", "type": "string"}, {"name": "maps", "type": "string_list"},
                               {"name": "w", "type": "string_number_map"}],
          "teams": [{"name": "t", "minPlayers": 2, "maxPlayers": 2, "quantity": 2}],
          "rules": []}"#,
    );
    // Ticket i: a party of two. Player 0 sends mode i % 3, maps {i % 5, 5 + i % 7} and
    // weights {1: i, 2: 2i}; player 1 mode 3, maps {i % 5} and weights {1: i + 2}.
    let ticket = |pool: &mut Pool, i: u32| {
        let f = f64::from(i);
        let first = NewPlayer {
            id_sym: Sym(1000 + 2 * i),
            values: vec![
                Some(PlayerValue::String(Sym(i % 3))),
                Some(PlayerValue::List(vec![Sym(i % 5), Sym(5 + i % 7)])),
                Some(PlayerValue::Map(vec![(Sym(1), f), (Sym(2), 2.0 * f)])),
            ],
            latency: Vec::new(),
        };
        let second = NewPlayer {
            id_sym: Sym(1001 + 2 * i),
            values: vec![
                Some(PlayerValue::String(Sym(3))),
                Some(PlayerValue::List(vec![Sym(i % 5)])),
                Some(PlayerValue::Map(vec![(Sym(1), f + 2.0)])),
            ],
            latency: Vec::new(),
        };
        pool.insert(crate::time::Time(0), &[first, second])
    };
    let check = |pool: &Pool, slot: u32, i: u32| {
        let f = f64::from(i);
        assert_eq!(pool.player_ids(slot), &[Sym(1000 + 2 * i), Sym(1001 + 2 * i)][..], "ticket {i}");
        assert_eq!(
            [pool.string(slot, 0, 0), pool.string(slot, 1, 0), pool.string(slot, 2, 0)],
            [Sym(i % 3), Sym(3), Sym(u32::MAX)]
        );
        assert_eq!(pool.list(slot, 1, 0), &[Sym(i % 5), Sym(5 + i % 7)][..], "union of ticket {i}");
        assert_eq!(pool.list(slot, 1, 1), &[Sym(i % 5)][..], "intersection of ticket {i}");
        assert_eq!(pool.map(slot, 2), &[(Sym(1), f + 1.0), (Sym(2), 2.0 * f)][..], "map of ticket {i}");
    };
    let slots: Vec<u32> = (0..20_000).map(|i| ticket(&mut pool, i)).collect();
    // A ticket with no values and no ids keeps an empty run, and reads as having none.
    let bare = pool.insert(crate::time::Time(0), &[player(vec![None, None, None]), player(vec![None, None, None])]);
    assert_eq!(pool.player_ids(bare), &[][..]);
    assert_eq!(pool.list(bare, 1, 0), &[][..]);
    keep_every_tenth_and_compact(&mut pool, &slots, |pool| pool.var.held());
    for (i, &slot) in slots.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        check(&pool, slot, i as u32);
    }
    assert_eq!(pool.player_ids(bare), &[][..]);
    // A slot reused after compaction gets its own values.
    let again = ticket(&mut pool, 7);
    assert!(slots.contains(&again), "a freed slot is reused");
    check(&pool, again, 7);
}

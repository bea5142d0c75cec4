use super::*;
use rallypoint::expr::AttrType;

fn bytes(spec: &WorkloadSpec) -> Vec<u8> {
    let mut out = Vec::new();
    write_jsonl(generate(spec), &mut out).unwrap();
    out
}

fn starts(spec: &WorkloadSpec) -> impl Iterator<Item = StartMatchmakingRequest> {
    generate(spec).filter_map(|item| match item.request {
        WorkloadRequest::Start(r) => Some(r),
        WorkloadRequest::Stop { .. } => None,
    })
}

#[test]
fn profile_names_round_trip() {
    for p in Profile::ALL {
        assert_eq!(Profile::from_name(p.name()), Some(p));
        assert_eq!(Profile::from_name(p.file_stem()), Some(p));
    }
    assert_eq!(Profile::from_name("5v5-party"), Some(Profile::FiveVFive));
    assert_eq!(Profile::from_name("large-battle"), Some(Profile::Large));
    assert_eq!(Profile::from_name("nope"), None);
}

#[test]
fn same_seed_same_bytes_and_other_seed_differs() {
    for profile in Profile::ALL {
        let mut spec = WorkloadSpec::new(profile, 20.0, 60.0, 7);
        spec.daily_cycle = true;
        spec.bursts = true;
        spec.cancel_share = 0.1;
        let a = bytes(&spec);
        assert!(!a.is_empty());
        assert_eq!(a, bytes(&spec), "{profile}");
        spec.seed = 8;
        assert_ne!(a, bytes(&spec), "{profile}");
    }
}

#[test]
fn arrivals_are_ordered_and_follow_the_rate() {
    let mut spec = WorkloadSpec::new(Profile::OneVOne, 50.0, 2_000.0, 3);
    spec.cancel_share = 0.1;
    let mut last = 0.0;
    let (mut started, mut stopped) = (0usize, 0usize);
    let mut started_ids = std::collections::HashSet::new();
    for item in generate(&spec) {
        assert!(item.at >= last, "{} after {last}", item.at);
        assert!(item.at <= spec.duration);
        last = item.at;
        match item.request {
            WorkloadRequest::Start(r) => {
                started += 1;
                started_ids.insert(r.ticket_id.unwrap());
            }
            WorkloadRequest::Stop { ticket_id } => {
                stopped += 1;
                assert!(started_ids.contains(&ticket_id), "stop before start: {ticket_id}");
            }
        }
    }
    let expected = spec.rate * spec.duration;
    assert!((started as f64 - expected).abs() < 0.02 * expected, "{started} arrivals, expected {expected}");
    let share = stopped as f64 / started as f64;
    assert!((share - 0.1).abs() < 0.01, "cancel share {share}");
}

#[test]
fn daily_cycle_keeps_the_mean_over_a_day_and_bursts_add_load() {
    let mut spec = WorkloadSpec::new(Profile::OneVOne, 2.0, 86_400.0, 5);
    spec.daily_cycle = true;
    spec.cancel_share = 0.0;
    let n = generate(&spec).count() as f64;
    assert!((n / spec.duration - 2.0).abs() < 0.05, "daily mean {}", n / spec.duration);
    // Hourly counts vary (each region peaks at 3:1, but the regional peaks do not line up).
    let mut hours = [0usize; 24];
    for item in generate(&spec) {
        hours[((item.at / 3600.0) as usize).min(23)] += 1;
    }
    let (lo, hi) = (*hours.iter().min().unwrap(), *hours.iter().max().unwrap());
    assert!(hi as f64 > 1.15 * lo as f64, "hourly {hours:?}");

    let mut spec = WorkloadSpec::new(Profile::OneVOne, 10.0, 600.0, 5);
    spec.bursts = true;
    spec.cancel_share = 0.0;
    let n = generate(&spec).count() as f64;
    // One 60 s burst at ×10 within the first 10 minutes: about 600·10 + 60·90 arrivals.
    assert!(n > 10_000.0 && n < 12_500.0, "{n} arrivals with a burst");
}

#[test]
fn max_tickets_limits_the_stream() {
    let mut spec = WorkloadSpec::new(Profile::FiveVFive, 100.0, 1e9, 1);
    spec.max_tickets = Some(1_000);
    assert_eq!(starts(&spec).count(), 1_000);
}

#[test]
fn party_size_shares_match_the_profile() {
    for profile in Profile::ALL {
        let spec = WorkloadSpec::new(profile, 100.0, 200.0, 11);
        let mut counts = [0usize; 10];
        let mut total = 0usize;
        for r in starts(&spec) {
            counts[r.players.len() - 1] += 1;
            total += 1;
        }
        let sizes = profile.party_sizes();
        for (k, &count) in counts.iter().enumerate() {
            let share = count as f64 / total as f64;
            let want = sizes.get(k).copied().unwrap_or(0.0);
            assert!((share - want).abs() < 0.015, "{profile}: size {} share {share}, want {want}", k + 1);
        }
    }
}

#[test]
fn skill_shapes_per_profile() {
    let values = |profile: Profile| -> Vec<f64> {
        let spec = WorkloadSpec::new(profile, 100.0, 200.0, 13);
        let attr = profile.skill_attribute();
        starts(&spec)
            .flat_map(|r| r.players)
            .map(|p| match p.attribute(attr) {
                Some(AttributeValue::N(n)) => *n,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        (mean, sd, s[s.len() / 2])
    };
    let (mean, sd, _) = stats(&values(Profile::FiveVFive));
    assert!((mean - 1500.0).abs() < 25.0 && (sd - 380.0).abs() < 40.0, "5v5 mean {mean} sd {sd}");
    let (mean, _, median) = stats(&values(Profile::OneVOne));
    assert!(mean > median + 30.0 && (median - 630.0).abs() < 40.0, "1v1 mean {mean} median {median}");
    let mut tiers = values(Profile::Adversarial);
    tiers.sort_by(f64::total_cmp);
    tiers.dedup();
    assert_eq!(tiers.len(), 5);
}

#[test]
fn asymmetric_beasts_are_about_fifteen_percent_and_solo() {
    let spec = WorkloadSpec::new(Profile::Asymmetric, 100.0, 200.0, 17);
    let (mut beasts, mut players) = (0usize, 0usize);
    for r in starts(&spec) {
        for p in &r.players {
            players += 1;
            if p.attribute("wantsBeast") == Some(&AttributeValue::N(1.0)) {
                beasts += 1;
                assert_eq!(r.players.len(), 1);
            }
        }
    }
    let share = beasts as f64 / players as f64;
    assert!((share - BEAST_SHARE).abs() < 0.015, "beast share {share}");
}

#[test]
fn latencies_are_plausible() {
    let spec = WorkloadSpec::new(Profile::FiveVFive, 100.0, 200.0, 19);
    let (mut players, mut far, mut under_35) = (0usize, 0usize, 0usize);
    for p in starts(&spec).flat_map(|r| r.players) {
        players += 1;
        assert!(!p.latency_in_ms.is_empty());
        let best = p.latency_in_ms.iter().map(|(_, ms)| *ms).min().unwrap();
        assert!(p.latency_in_ms.iter().all(|(dc, ms)| DATACENTERS.contains(&dc.as_str()) && *ms >= 1));
        assert!(p.latency_in_ms.iter().all(|(_, ms)| *ms <= 250 || *ms == best));
        if best > 200 {
            far += 1;
        }
        if best < 35 {
            under_35 += 1;
        }
    }
    let far = far as f64 / players as f64;
    assert!(far > 0.005 && far < 0.03, "far share {far}");
    let near = under_35 as f64 / players as f64;
    assert!(near > 0.4, "share with a datacenter under 35 ms: {near}");
}

#[test]
fn every_profile_passes_the_api_check_and_carries_its_attributes() {
    for profile in Profile::ALL {
        let rule_set = rallypoint::ruleset::check(profile.rule_set_json());
        let rule_set = rule_set.value.unwrap_or_else(|| panic!("{profile}: {:?}", rule_set.diagnostics));
        let mut spec = WorkloadSpec::new(profile, 50.0, 40.0, 23);
        spec.cancel_share = 0.0;
        let text = String::from_utf8(bytes(&spec)).unwrap();
        let mut count = 0;
        for line in text.lines() {
            let start = line.find("\"StartMatchmaking\":").unwrap() + "\"StartMatchmaking\":".len();
            let body = &line[start..line.len() - 1];
            let checked = api::check_start_matchmaking(body);
            assert!(checked.diagnostics.is_empty(), "{profile}: {:?}\n{body}", checked.diagnostics);
            let request = checked.value.unwrap();
            assert_eq!(request.configuration_name, profile.name());
            for player in &request.players {
                assert_eq!(player.attributes.len(), rule_set.attributes.len(), "{profile}: {body}");
                for def in &rule_set.attributes {
                    let value = player.attribute(&def.name).unwrap_or_else(|| panic!("{profile}: no {}", def.name));
                    let ok = matches!(
                        (def.ty, value),
                        (AttrType::Number, AttributeValue::N(_))
                            | (AttrType::String, AttributeValue::S(_))
                            | (AttrType::StringList, AttributeValue::SL(_))
                            | (AttrType::StringNumberMap, AttributeValue::SDM(_))
                    );
                    assert!(ok, "{profile}: {} is {value:?}", def.name);
                }
                assert_eq!(player.latency_in_ms.is_empty(), !profile.uses_latency());
            }
            count += 1;
        }
        assert!(count > 1_000, "{profile}: {count}");
    }
}

#[test]
fn write_then_read_round_trips() {
    for profile in Profile::ALL {
        let mut spec = WorkloadSpec::new(profile, 30.0, 60.0, 29);
        spec.cancel_share = 0.2;
        spec.bursts = true;
        let items: Vec<WorkloadItem> = generate(&spec).collect();
        assert!(items.iter().any(|i| matches!(i.request, WorkloadRequest::Stop { .. })));
        let mut out = Vec::new();
        assert_eq!(write_jsonl(items.clone().into_iter(), &mut out).unwrap(), items.len() as u64);
        let back = read_jsonl(&out[..]).unwrap();
        assert_eq!(back, items, "{profile}");
    }
}

#[test]
fn read_reports_the_bad_line() {
    let spec = WorkloadSpec::new(Profile::FiveVFive, 10.0, 5.0, 31);
    let mut out = Vec::new();
    write_jsonl(generate(&spec), &mut out).unwrap();
    let mut lines: Vec<String> = String::from_utf8(out).unwrap().lines().map(str::to_owned).collect();
    assert!(lines.len() > 5);
    let good = lines.clone();

    lines[3] = lines[3].replace("\"PlayerId\":\"p3-0\"", "\"PlayerId\":\"\"");
    let err = read_jsonl(lines.join("\n").as_bytes()).unwrap_err();
    assert!(err.starts_with("line 4: StartMatchmaking: ") && err.contains("PlayerId"), "{err}");

    let mut lines = good.clone();
    lines[2] = "{\"at\": 99, \"StopMatchmaking\": {\"TicketId\": \"t0\"}}".to_owned();
    let err = read_jsonl(lines.join("\n").as_bytes()).unwrap_err();
    assert!(err.starts_with("line 4: ") && err.contains("before"), "{err}");

    let mut lines = good.clone();
    lines[1] = "{\"at\": 1,".to_owned();
    let err = read_jsonl(lines.join("\n").as_bytes()).unwrap_err();
    assert!(err.starts_with("line 2: invalid JSON"), "{err}");

    let mut lines = good;
    lines[4] = "{\"at\": 99, \"DescribeMatchmaking\": {}}".to_owned();
    let err = read_jsonl(lines.join("\n").as_bytes()).unwrap_err();
    assert!(err.starts_with("line 5: unknown field `DescribeMatchmaking`"), "{err}");
}

#[test]
fn a_million_tickets_stream_lazily() {
    let mut spec = WorkloadSpec::new(Profile::OneVOne, 20_000.0, 1e9, 37);
    spec.max_tickets = Some(if cfg!(debug_assertions) { 100_000 } else { 1_000_000 });
    let mut generator = generate(&spec);
    let mut count = 0;
    let mut last = 0.0;
    for item in generator.by_ref() {
        assert!(item.at >= last);
        last = item.at;
        count += 1;
    }
    assert!(count >= spec.max_tickets.unwrap());
    assert!(generator.stops.is_empty());
}

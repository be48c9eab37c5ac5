//! The Route 53 side of a migration as data: the records at a host, the new side's share
//! they give, and the change batches that move it. The adapter reads and sends them; this
//! module decides what they say.
//!
//! Every batch that moves weights also carries the intent and, when a run holds it, the
//! renewal of the host's lock, as a DELETE of the exact current record and a CREATE of the
//! new one. Route 53 applies a batch whole or not at all, and refuses a DELETE whose values
//! are not the current ones: a run that lost its lock, or whose intent someone else changed
//! (a rollback from another terminal), cannot move a weight.

use crate::intent::{Intent, Lock};
use crate::plan::{DNS_TTL_SECONDS, Track};
use acme_synth::stacks::legacy::{NEW_SET, OLD_SET};
use serde::Serialize;

/// A record set as Route 53 holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    pub name: String,
    pub rtype: String,
    pub set_identifier: Option<String>,
    pub weight: Option<i64>,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub alias: Option<Alias>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alias {
    pub dns_name: String,
    pub hosted_zone_id: String,
    pub evaluate_target_health: bool,
}

/// The load balancer the new side's records point at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoadBalancer {
    pub dns_name: String,
    pub canonical_zone_id: String,
}

/// One change of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "record", rename_all = "UPPERCASE")]
pub enum Change {
    Create(Record),
    Delete(Record),
    Upsert(Record),
}

/// What the zone holds for one host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostRecords {
    pub host: String,
    /// Every record at the host's own name.
    pub records: Vec<Record>,
    /// The host's record of intent (`_acmectl-migration.<host>`).
    pub intent: Option<Record>,
    /// The host's lock (`_acmectl-lock.<host>`).
    pub lock: Option<Record>,
}

/// TXT strings without their quotes.
fn txt_strings(record: &Record) -> Vec<String> {
    record.values.iter().map(|v| v.trim_matches('"').to_owned()).collect()
}

fn txt(name: &str, strings: &[String]) -> Record {
    Record {
        name: name.to_owned(),
        rtype: "TXT".into(),
        set_identifier: None,
        weight: None,
        ttl: Some(DNS_TTL_SECONDS as i64),
        values: strings.iter().map(|s| format!("\"{s}\"")).collect(),
        alias: None,
    }
}

impl HostRecords {
    /// Every intent written on the host, one per service.
    pub fn intents(&self) -> Vec<Intent> {
        self.intent.as_ref().map(txt_strings).unwrap_or_default().iter().filter_map(|s| Intent::decode(s)).collect()
    }

    pub fn intent_of(&self, service: &str) -> Option<Intent> {
        self.intents().into_iter().find(|i| i.service == service)
    }

    pub fn lock(&self) -> Option<Lock> {
        self.lock.as_ref().map(txt_strings).unwrap_or_default().iter().find_map(|s| Lock::decode(s))
    }

    fn weighted(&self, set: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.set_identifier.as_deref() == Some(set))
    }

    /// Whether the stack's own record (`final_set`) answers for the host: it is migrated.
    pub fn is_final(&self, final_set: &str) -> bool {
        self.weighted(final_set).is_some()
    }

    /// The new side's share of the host's DNS answers, 0..=100.
    pub fn dns_share(&self, final_set: &str) -> u8 {
        if self.is_final(final_set) {
            return 100;
        }
        let weight = |set| self.weighted(set).and_then(|r| r.weight).unwrap_or(0).max(0);
        let (old, new) = (weight(OLD_SET), weight(NEW_SET));
        match (self.weighted(OLD_SET).is_some(), self.weighted(NEW_SET).is_some()) {
            (_, false) => 0,
            (false, true) => 100,
            // Route 53 answers every record of a set equally when all weigh 0.
            _ if old + new == 0 => 50,
            _ => ((100 * new + (old + new) / 2) / (old + new)).clamp(0, 100) as u8,
        }
    }

    /// A plain record for the host, as it serves before the migration (by hand, or
    /// written by `deploy`).
    fn plain(&self) -> Option<&Record> {
        self.records.iter().find(|r| r.set_identifier.is_none() && matches!(r.rtype.as_str(), "A" | "CNAME"))
    }

    /// Records that still answer with the old side, for people: `CNAME old-lb... (weight 0)`.
    pub fn old_records(&self, track: &Track) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| r.alias.is_none() && r.rtype == track.record_type && answers_with(r, &track.old_values))
            .map(|r| {
                let weight = r.weight.map(|w| format!(" (weight {w})")).unwrap_or_default();
                format!(
                    "{} {}{weight}",
                    r.rtype,
                    r.values.iter().map(|v| v.trim_end_matches('.')).collect::<Vec<_>>().join(", ")
                )
            })
            .collect()
    }
}

fn answers_with(record: &Record, values: &[String]) -> bool {
    let mut have: Vec<String> = record.values.iter().map(|v| v.trim_end_matches('.').to_ascii_lowercase()).collect();
    let mut want: Vec<String> = values.iter().map(|v| v.trim_end_matches('.').to_ascii_lowercase()).collect();
    have.sort();
    want.sort();
    have == want
}

/// The old side's weighted record of a host, at `weight`.
fn old_record(track: &Track, weight: i64) -> Record {
    Record {
        name: track.host.clone(),
        rtype: track.record_type.to_owned(),
        set_identifier: Some(OLD_SET.to_owned()),
        weight: Some(weight),
        ttl: Some(DNS_TTL_SECONDS as i64),
        values: track.old_values.clone(),
        alias: None,
    }
}

/// The new side's weighted record: an alias to the load balancer, or (beside a CNAME old
/// side, which no other type may sit beside) a CNAME to its name.
fn new_record(track: &Track, lb: &LoadBalancer, rtype: &str, weight: i64) -> Record {
    let cname = rtype == "CNAME";
    Record {
        name: track.host.clone(),
        rtype: rtype.to_owned(),
        set_identifier: Some(NEW_SET.to_owned()),
        weight: Some(weight),
        ttl: cname.then_some(DNS_TTL_SECONDS as i64),
        values: if cname { vec![lb.dns_name.clone()] } else { vec![] },
        alias: (!cname).then(|| Alias {
            dns_name: lb.dns_name.clone(),
            hosted_zone_id: lb.canonical_zone_id.clone(),
            evaluate_target_health: true,
        }),
    }
}

/// The changes that give the host's DNS `percent` on the new side. A plain record of the
/// old side is turned into the weighted pair in the same batch, so the name never stops
/// resolving; a plain record of anything else is refused.
pub fn dns_weights(host: &HostRecords, track: &Track, lb: &LoadBalancer, percent: u8) -> Result<Vec<Change>, String> {
    let mut changes = vec![];
    if let Some(plain) = host.plain() {
        if plain.rtype != track.record_type || !answers_with(plain, &track.old_values) {
            return Err(format!(
                "{} has a record {} {} that acme.yaml does not name as its old side ({} {}): fix legacy in \
                 acme.yaml, or the record",
                track.host,
                plain.rtype,
                plain.values.join(", "),
                track.record_type,
                track.old_values.join(", ")
            ));
        }
        changes.push(Change::Delete(plain.clone()));
    }
    let p = i64::from(percent.min(100));
    changes.push(Change::Upsert(old_record(track, 100 - p)));
    changes.push(Change::Upsert(new_record(track, lb, track.record_type, p)));
    Ok(changes)
}

/// The changes that replace the intent of `service` on the host with `intent` (or remove
/// it), as a compare-and-swap of the whole record.
pub fn intent_change(host: &HostRecords, intent_record: &str, service: &str, intent: Option<&Intent>) -> Vec<Change> {
    let current: Vec<String> = host.intent.as_ref().map(txt_strings).unwrap_or_default();
    let mut strings: Vec<String> =
        current.iter().filter(|s| Intent::decode(s).is_none_or(|i| i.service != service)).cloned().collect();
    strings.extend(intent.map(Intent::encode));
    strings.sort();
    swap(host.intent.as_ref(), (!strings.is_empty()).then(|| txt(intent_record, &strings)))
}

/// The changes that put `lock` on the host (take, renew) or remove it (`None`), as a
/// compare-and-swap of the record.
pub fn lock_change(host: &HostRecords, lock_record: &str, lock: Option<&Lock>) -> Vec<Change> {
    swap(host.lock.as_ref(), lock.map(|l| txt(lock_record, &[l.encode()])))
}

fn swap(current: Option<&Record>, next: Option<Record>) -> Vec<Change> {
    match (current, next) {
        (Some(c), Some(n)) if *c == n => vec![],
        (current, next) => current.cloned().map(Change::Delete).into_iter().chain(next.map(Change::Create)).collect(),
    }
}

/// At finalize, before the stack adds its own alias record: a CNAME pair becomes an alias
/// pair at the same weights (one atomic batch, as a CNAME may share its name with nothing),
/// so that the stack's A record can join it. Nothing to do for a pair of A records.
pub fn to_alias(host: &HostRecords, track: &Track, lb: &LoadBalancer) -> Vec<Change> {
    let (Some(old), Some(new)) = (host.weighted(OLD_SET), host.weighted(NEW_SET)) else { return vec![] };
    if new.rtype != "CNAME" {
        return vec![];
    }
    vec![
        Change::Delete(old.clone()),
        Change::Delete(new.clone()),
        Change::Create(new_record(track, lb, "A", new.weight.unwrap_or(100))),
    ]
}

/// After the stack's record answers for the host: the migration's records go.
pub fn retire(host: &HostRecords) -> Vec<Change> {
    [OLD_SET, NEW_SET].iter().filter_map(|set| host.weighted(set)).cloned().map(Change::Delete).collect()
}

/// The plain record `deploy` writes for a host of the old side that has none yet (a new
/// zone): the host keeps resolving to the old side until its migration starts.
pub fn old_side_record(track: &Track) -> Record {
    Record { set_identifier: None, weight: None, ..old_record(track, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{IntentState, Stage};
    use crate::plan::plan_service;
    use acme_spec::fixture;

    fn track(service: &str) -> Track {
        let p = fixture::acme();
        plan_service(&p, p.service(service).expect("service")).tracks[0].clone()
    }

    fn lb() -> LoadBalancer {
        LoadBalancer {
            dns_name: "acme-edge-1.us-east-1.elb.amazonaws.com".into(),
            canonical_zone_id: "Z35SXDOTRQ7X7K".into(),
        }
    }

    fn host_with(records: Vec<Record>) -> HostRecords {
        HostRecords { host: "auth.acme.example.com".into(), records, ..Default::default() }
    }

    fn upserts(changes: &[Change]) -> Vec<(&str, Option<i64>)> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Upsert(r) => Some((r.set_identifier.as_deref().unwrap_or(""), r.weight)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_plain_old_record_turns_into_the_weighted_pair_in_one_batch() {
        let t = track("auth");
        let plain = old_side_record(&t);
        let host = host_with(vec![plain.clone()]);
        assert_eq!(host.dns_share("acme-edge"), 0);
        let changes = dns_weights(&host, &t, &lb(), 1).expect("the old side's record");
        assert_eq!(changes[0], Change::Delete(plain));
        assert_eq!(upserts(&changes), [("acmectl-old", Some(99)), ("acmectl-new", Some(1))]);
        let Change::Upsert(new) = &changes[2] else { panic!() };
        // Beside a CNAME only a CNAME may stand.
        assert_eq!((new.rtype.as_str(), new.values.as_slice()), ("CNAME", &[lb().dns_name][..]));
    }

    #[test]
    fn a_plain_record_acme_yaml_does_not_name_is_left_alone() {
        let t = track("auth");
        let mut other = old_side_record(&t);
        other.values = vec!["somewhere-else.example.net".into()];
        let err = dns_weights(&host_with(vec![other]), &t, &lb(), 1).expect_err("refused");
        assert!(err.contains("somewhere-else.example.net") && err.contains("old-lb.acme-legacy.example.net"), "{err}");
    }

    #[test]
    fn the_share_is_read_from_the_weights() {
        let t = track("auth");
        let at =
            |old, new| host_with(vec![old_record(&t, old), new_record(&t, &lb(), "CNAME", new)]).dns_share("acme-edge");
        assert_eq!((at(99, 1), at(75, 25), at(0, 100), at(0, 0)), (1, 25, 100, 50));
        let mut migrated = host_with(vec![old_record(&t, 0)]);
        migrated.records.push(Record { set_identifier: Some("acme-edge".into()), ..new_record(&t, &lb(), "A", 100) });
        assert_eq!(migrated.dns_share("acme-edge"), 100);
        assert_eq!(host_with(vec![]).dns_share("acme-edge"), 0);
    }

    #[test]
    fn intents_and_locks_swap_the_exact_record() {
        let host = HostRecords { host: "www.acme.example.com".into(), ..Default::default() };
        let web = Intent {
            service: "web".into(),
            stage: Stage::Main,
            percent: 5,
            since: 1,
            run: "r".into(),
            state: IntentState::Complete,
        };
        let first = intent_change(&host, "_acmectl-migration.www.acme.example.com", "web", Some(&web));
        let [Change::Create(record)] = first.as_slice() else { panic!("{first:?}") };
        let host = HostRecords { intent: Some(record.clone()), ..host };
        let api = Intent { service: "api".into(), ..web.clone() };
        let second = intent_change(&host, "_acmectl-migration.www.acme.example.com", "api", Some(&api));
        assert_eq!(second[0], Change::Delete(record.clone()), "compare and swap");
        let Change::Create(both) = &second[1] else { panic!() };
        assert_eq!(both.values.len(), 2, "one string per service");
        let removed = intent_change(&HostRecords { intent: Some(both.clone()), ..host.clone() }, "x", "api", None);
        let Change::Create(left) = &removed[1] else { panic!() };
        assert_eq!(txt_strings(left), [web.encode()]);

        let lock = Lock { owner: "alice@bastion".into(), pid: 1, run: "r".into(), expires: 100 };
        assert!(matches!(lock_change(&host, "_acmectl-lock.www", Some(&lock)).as_slice(), [Change::Create(_)]));
    }

    #[test]
    fn at_finalize_a_cname_pair_becomes_an_alias_then_leaves() {
        let t = track("auth");
        let host = host_with(vec![old_record(&t, 0), new_record(&t, &lb(), "CNAME", 100)]);
        let swap = to_alias(&host, &t, &lb());
        assert_eq!(swap.len(), 3);
        let Change::Create(alias) = &swap[2] else { panic!() };
        assert_eq!((alias.rtype.as_str(), alias.weight, alias.alias.is_some()), ("A", Some(100), true));
        let aliased = host_with(vec![alias.clone()]);
        assert!(to_alias(&aliased, &t, &lb()).is_empty(), "already an alias");
        assert_eq!(retire(&aliased), [Change::Delete(alias.clone())]);
    }

    #[test]
    fn old_records_are_listed_for_the_report() {
        let t = track("auth");
        let host = host_with(vec![old_record(&t, 0), new_record(&t, &lb(), "CNAME", 100)]);
        assert_eq!(host.old_records(&t), ["CNAME old-lb.acme-legacy.example.net (weight 0)"]);
    }
}

//! The hosts of a service are migrated by one run at a time. The lock of a host is a TXT
//! record in the zone: who holds it (person and machine, not an ARN: the zone is public DNS),
//! the process, the run and when it expires. Taking it is a CREATE (or an exact DELETE of an
//! expired lock and a CREATE), which Route 53 refuses if another run got there first; every
//! write of the holder renews it in the same batch, so a run that lost its lock cannot move
//! a weight.

use super::{Error, Migration};
use acme_migrate::intent::Lock;
use acme_migrate::records::{Change, HostRecords, lock_change};
use acme_synth::stacks::legacy;
use std::collections::BTreeMap;

/// Attempts to take one host's lock when another run's write races this one.
const ATTEMPTS: usize = 3;

/// This run's lock, to be written at `now`.
pub fn mine(m: &Migration<'_>) -> Lock {
    Lock {
        owner: m.settings.owner.clone(),
        pid: m.settings.pid,
        run: m.settings.run.clone(),
        expires: m.clock.secs() + m.lease(),
    }
}

/// Whether a process of this machine still runs (Linux's /proc; elsewhere, assume it does).
fn alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Take the locks of `hosts`, in order. On a refusal the ones taken are given back.
pub async fn take(m: &Migration<'_>, hosts: &[&str]) -> Result<(), Error> {
    let mut taken: Vec<&str> = vec![];
    for host in hosts {
        if let Err(e) = take_one(m, host).await {
            let _ = release(m, &taken).await;
            return Err(e);
        }
        taken.push(host);
    }
    Ok(())
}

async fn take_one(m: &Migration<'_>, host: &str) -> Result<(), Error> {
    let settings = &m.settings;
    for attempt in 1..=ATTEMPTS {
        let records = m.migrator.host(&m.edge.zone_id, host).await?;
        let now = m.clock.secs();
        if let Some(lock) = records.lock()
            && !lock.may_take(&settings.owner, &settings.run, now, alive)
        {
            return Err(Error::Locked { host: host.to_owned(), lock, now });
        }
        let changes = lock_change(&records, &legacy::lock_record(host), Some(&mine(m)));
        match m.migrator.change(&m.edge.zone_id, &changes, &format!("acmectl: {} takes {host}", settings.owner)).await {
            Ok(_) => return Ok(()),
            Err(acme_aws::Error::Conflict { .. }) if attempt < ATTEMPTS => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the last attempt returns")
}

/// The changes that renew this run's locks of `hosts` (part of every write of the run).
pub fn renewal(m: &Migration<'_>, hosts: &BTreeMap<String, HostRecords>) -> Vec<Change> {
    let lock = mine(m);
    hosts.iter().flat_map(|(host, records)| lock_change(records, &legacy::lock_record(host), Some(&lock))).collect()
}

/// Whether every host's lock is this run's.
pub fn holds(m: &Migration<'_>, hosts: &BTreeMap<String, HostRecords>) -> Option<(String, Lock)> {
    hosts.iter().find_map(|(host, records)| match records.lock() {
        Some(lock) if lock.run == m.settings.run => None,
        Some(lock) => Some((host.clone(), lock)),
        None => Some((host.clone(), Lock { owner: "nobody".into(), pid: 0, run: String::new(), expires: 0 })),
    })
}

/// Give back this run's locks of `hosts` (those it does not hold are left alone).
pub async fn release(m: &Migration<'_>, hosts: &[&str]) -> Result<(), Error> {
    let mut changes = vec![];
    for host in hosts {
        let records = m.migrator.host(&m.edge.zone_id, host).await?;
        if records.lock().is_some_and(|l| l.run == m.settings.run) {
            changes.extend(lock_change(&records, &legacy::lock_record(host), None));
        }
    }
    if !changes.is_empty() {
        m.migrator.change(&m.edge.zone_id, &changes, &format!("acmectl: {} lets go", m.settings.owner)).await?;
    }
    Ok(())
}

//! The oracle of the reliability campaigns (issue 6): a workload of JSON
//! event lines for `bamdb ingest`, and the record, kept outside the store,
//! of which flush groups were acknowledged, which were rolled back, and
//! what each must look like in the store after any fault and a reopen.
//!
//! Flush groups (one `{"op":"flush"}` each, so one commit, one frame):
//! - `Simple`: begin/update(Amount, Customer)/end of `PO-<cycle>-<n>`.
//! - `Root`: begin `PC-<cycle>-<n>`, enable continuation `TK-<cycle>-<n>`,
//!   update Amount, end. Its `Cont` group comes in a later flush: an update
//!   (Region) and end reported under the token. Until the `Cont` group is
//!   imported the instance is active without a Region.
//! - `Cleared`: begin/update/end of `RB-<cycle>-<n>`, then `{"op":"clear"}`:
//!   never committed, must never appear.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use bamdb::model::Value;
use bamdb::{ActivityInstance, Status, Store, StoreOptions};

pub const ACTIVITY: &str = bamdb::fixture::ACTIVITY;

/// The definitions file the campaigns deploy: PurchaseOrder with
/// `Customer`, `Region` and `Amount`.
pub fn defs() -> String {
    bamdb::fixture::definitions_json(bamdb::fixture::BRIEF)
}

/// A small deterministic generator (xorshift64*), seeded per run and
/// printed, so a failing run can be replayed with `BAMDB_SEED`.
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("BAMDB_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("seed: BAMDB_SEED={seed}");
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A generator of its own for another thread, drawn from this one (so
    /// one seed still replays the run's choices per thread).
    pub fn split(&mut self) -> Rng {
        Rng(self.next() | 1)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Reads a count from the environment (the long forms).
pub fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_bamdb")
}

/// Deploys [`defs`] with `bamdb deploy`.
pub fn deploy(dir: &std::path::Path) {
    let file = dir.with_extension("defs.json");
    std::fs::write(&file, defs()).expect("write defs");
    let o = Command::new(bin())
        .args(["deploy", "--store"])
        .arg(dir)
        .arg(&file)
        .output()
        .expect("run bamdb deploy");
    assert!(
        o.status.success(),
        "deploy: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Simple,
    Root,
    /// The continuation part of the `Root` group with this index.
    Cont(usize),
    Cleared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Not committed yet (still to be sent), or rolled back.
    Unsent,
    /// Sent with a flush, no receipt seen: imported whole or not at all.
    Unknown,
    /// A receipt was printed: must be imported, exactly once.
    Acked,
    /// Unacknowledged, and found imported after a reopen: must stay.
    Present,
    /// Unacknowledged, and found absent after a reopen: must stay absent.
    Absent,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub kind: Kind,
    /// The instance id (`PO-..`, `PC-..`, `RB-..`).
    pub id: String,
    pub amount: f64,
    pub region: String,
    pub fate: Fate,
}

impl Group {
    /// Events in the commit.
    pub fn events(&self) -> u64 {
        match self.kind {
            Kind::Simple | Kind::Cleared => 3,
            Kind::Root => 4,
            Kind::Cont(_) => 2,
        }
    }
    fn imported(&self) -> bool {
        matches!(self.fate, Fate::Acked | Fate::Present)
    }
}

/// Every group ever generated, in input order.
#[derive(Default, Clone)]
pub struct Oracle {
    pub groups: Vec<Group>,
}

impl Oracle {
    /// Generates the input of one run (`cycle`): about `n` groups, returns
    /// the JSON lines and the indexes of the committed groups in commit
    /// order (cleared groups are not in it).
    pub fn cycle_input(&mut self, cycle: u64, n: usize, rng: &mut Rng) -> (String, Vec<usize>) {
        let mut text = String::new();
        let mut committed = Vec::new();
        let mut open_roots: Vec<usize> = Vec::new();
        let mut k = 0;
        while k < n || !open_roots.is_empty() {
            let pick = rng.below(10);
            let idx = self.groups.len();
            let kind = if k >= n || (pick < 3 && !open_roots.is_empty()) {
                Kind::Cont(open_roots.remove(0))
            } else if pick < 5 {
                Kind::Root
            } else if pick < 6 {
                Kind::Cleared
            } else {
                Kind::Simple
            };
            let (id, amount, region) = match kind {
                Kind::Simple => (format!("PO-{cycle}-{k}"), (k as f64) + 0.5, String::new()),
                Kind::Root => (format!("PC-{cycle}-{k}"), (k as f64) + 0.25, String::new()),
                Kind::Cleared => (format!("RB-{cycle}-{k}"), 9.0, String::new()),
                Kind::Cont(root) => {
                    let r = &self.groups[root];
                    (r.id.clone(), r.amount, format!("R{}", rng.below(100)))
                }
            };
            let a = ACTIVITY;
            match kind {
                Kind::Simple | Kind::Cleared => {
                    text.push_str(&format!(
                        "{{\"op\":\"begin\",\"activity\":\"{a}\",\"id\":\"{id}\"}}\n\
                         {{\"op\":\"update\",\"activity\":\"{a}\",\"id\":\"{id}\",\"data\":{{\"Amount\":{amount},\"Customer\":\"c {id}\"}}}}\n\
                         {{\"op\":\"end\",\"activity\":\"{a}\",\"id\":\"{id}\"}}\n"
                    ));
                }
                Kind::Root => {
                    let token = id.replacen("PC-", "TK-", 1);
                    text.push_str(&format!(
                        "{{\"op\":\"begin\",\"activity\":\"{a}\",\"id\":\"{id}\"}}\n\
                         {{\"op\":\"continue\",\"activity\":\"{a}\",\"id\":\"{id}\",\"token\":\"{token}\"}}\n\
                         {{\"op\":\"update\",\"activity\":\"{a}\",\"id\":\"{id}\",\"data\":{{\"Amount\":{amount},\"Customer\":\"c {id}\"}}}}\n\
                         {{\"op\":\"end\",\"activity\":\"{a}\",\"id\":\"{id}\"}}\n"
                    ));
                    open_roots.push(idx);
                }
                Kind::Cont(_) => {
                    let token = id.replacen("PC-", "TK-", 1);
                    text.push_str(&format!(
                        "{{\"op\":\"update\",\"activity\":\"{a}\",\"id\":\"{token}\",\"data\":{{\"Region\":\"{region}\"}}}}\n\
                         {{\"op\":\"end\",\"activity\":\"{a}\",\"id\":\"{token}\"}}\n"
                    ));
                }
            }
            if kind == Kind::Cleared {
                text.push_str("{\"op\":\"clear\"}\n");
            } else {
                text.push_str("{\"op\":\"flush\"}\n");
                committed.push(idx);
            }
            self.groups.push(Group {
                kind,
                id,
                amount,
                region,
                fate: Fate::Unsent,
            });
            k += 1;
        }
        (text, committed)
    }

    /// Records the receipts of one run: `receipts[i]` acknowledges
    /// `committed[i]`; the committed groups after the last receipt become
    /// `Unknown` when `sent_all` (else they may never have been read).
    pub fn record(&mut self, committed: &[usize], receipts: &[(u64, u64)]) -> Result<(), String> {
        if receipts.len() > committed.len() {
            return Err(format!(
                "{} receipts for {} commits",
                receipts.len(),
                committed.len()
            ));
        }
        for w in receipts.windows(2) {
            if w[0].0 >= w[1].0 {
                return Err(format!("receipt LSNs do not increase: {receipts:?}"));
            }
        }
        for (i, &g) in committed.iter().enumerate() {
            let group = &mut self.groups[g];
            if let Some(r) = receipts.get(i) {
                if r.1 != group.events() {
                    return Err(format!(
                        "receipt {i} says {} events, group {} has {}",
                        r.1,
                        group.id,
                        group.events()
                    ));
                }
                group.fate = Fate::Acked;
            } else {
                group.fate = Fate::Unknown;
            }
        }
        Ok(())
    }

    /// Marks every group of a run that was never committed (all of them are
    /// committed or not: a run that did not send everything still counts
    /// its unsent groups as `Unknown`, which is the weaker claim).
    pub fn acked(&self) -> usize {
        self.groups.iter().filter(|g| g.fate == Fate::Acked).count()
    }

    /// Settles every `Unknown` group from `from` on to `Present` or
    /// `Absent` from what the store shows.
    fn settle(&mut self, store: &Store, from: usize) -> Result<(), String> {
        let mut resolved = Vec::new();
        for (i, g) in self.groups.iter().enumerate().skip(from) {
            if g.fate != Fate::Unknown {
                continue;
            }
            let inst = store.get(ACTIVITY, &g.id).map_err(|e| e.to_string())?;
            let present = match g.kind {
                Kind::Simple | Kind::Root => inst.is_some(),
                Kind::Cont(_) => inst.as_ref().is_some_and(|x| x.item("Region").is_some()),
                Kind::Cleared => false,
            };
            resolved.push((i, present));
        }
        for (i, present) in resolved {
            self.groups[i].fate = if present { Fate::Present } else { Fate::Absent };
        }
        Ok(())
    }

    /// The instances the groups from `from` on must have made. `from` must
    /// be the first group of a run: a `Cont` group is always in the run of
    /// its `Root`.
    fn expected(&self, from: usize) -> Result<BTreeMap<String, Expected>, String> {
        let mut expected = BTreeMap::new();
        for g in &self.groups[from..] {
            if !g.imported() {
                continue;
            }
            match g.kind {
                Kind::Simple => {
                    expected.insert(g.id.clone(), (Status::Completed, g.amount, None));
                }
                Kind::Root => {
                    expected.insert(g.id.clone(), (Status::Active, g.amount, None));
                }
                Kind::Cont(root) => {
                    if !self.groups[root].imported() {
                        return Err(format!(
                            "continuation of {} imported without its root",
                            g.id
                        ));
                    }
                    let e = expected.get_mut(&g.id).ok_or("cont before root")?;
                    e.0 = Status::Completed;
                    e.2 = Some(g.region.clone());
                }
                Kind::Cleared => return Err(format!("cleared group {} imported", g.id)),
            }
        }
        Ok(expected)
    }

    /// Checks the store's global figures against the whole record: the
    /// `frames_imported`/`events_imported` counters, nothing quarantined,
    /// and the number of visible instances (active + completed), so an
    /// invented, duplicated or lost instance anywhere in the store shows
    /// even when only recent groups are compared one by one.
    fn check_totals(&self, store: &Store) -> Result<(), String> {
        let (mut frames, mut events, mut instances) = (0u64, 0u64, 0u64);
        for g in self.groups.iter().filter(|g| g.imported()) {
            frames += 1;
            events += g.events();
            if matches!(g.kind, Kind::Simple | Kind::Root) {
                instances += 1;
            }
        }
        let stats = store.stats();
        let c = &stats.counters;
        if c.frames_imported != frames || c.events_imported != events {
            return Err(format!(
                "counters say {} frames / {} events imported, the oracle {frames} / {events}",
                c.frames_imported, c.events_imported
            ));
        }
        if c.frames_quarantined != 0 {
            return Err(format!("{} frames quarantined", c.frames_quarantined));
        }
        let visible = stats.active as u64 + stats.completed;
        if visible != instances || stats.pending != 0 {
            return Err(format!(
                "the store shows {} active + {} completed instances ({} pending), the oracle {instances}",
                stats.active, stats.completed, stats.pending
            ));
        }
        Ok(())
    }

    /// Checks the open store `store` against the whole record: settles
    /// every `Unknown` group to `Present` or `Absent` from what the store
    /// shows, then compares every instance and the counters.
    pub fn check(&mut self, store: &Store) -> Result<(), String> {
        if !store.sync(Duration::from_secs(60)) {
            return Err(format!("import did not settle: {:?}", store.stats()));
        }
        self.settle(store, 0)?;
        let expected = self.expected(0)?;
        let all = store.instances(ACTIVITY).map_err(|e| e.to_string())?;
        let mut seen = BTreeMap::new();
        for inst in &all {
            if seen.insert(inst.id.clone(), ()).is_some() {
                return Err(format!("instance {} listed twice", inst.id));
            }
            let Some(exp) = expected.get(&inst.id) else {
                return Err(format!("invented or rolled-back instance: {inst:?}"));
            };
            compare(inst, exp)?;
        }
        for (id, exp) in &expected {
            if !seen.contains_key(id) {
                return Err(format!("instance {id} missing (expected {exp:?})"));
            }
            let got = store
                .get(ACTIVITY, id)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("get({id}) is None but instances() lists it"))?;
            compare(&got, exp)?;
        }
        self.check_totals(store)
    }

    /// The check of one run, proportional to the run's own work: settles
    /// and compares (with `get`) every group from `from` on (the first
    /// group of the previous run, so the previous run's in-doubt group is
    /// seen again and must not have changed), requires that no group
    /// before `from` is still in doubt, and checks the global counters and
    /// instance count ([`Oracle::check_totals`]). Older groups are compared
    /// one by one only by [`Oracle::check`], which the campaigns run every
    /// few runs and at the end.
    pub fn check_recent(&mut self, store: &Store, from: usize) -> Result<(), String> {
        if !store.sync(Duration::from_secs(60)) {
            return Err(format!("import did not settle: {:?}", store.stats()));
        }
        if let Some(g) = self.groups[..from].iter().find(|g| g.fate == Fate::Unknown) {
            return Err(format!("group {} left in doubt before {from}", g.id));
        }
        self.settle(store, from)?;
        let expected = self.expected(from)?;
        for g in &self.groups[from..] {
            let got = store.get(ACTIVITY, &g.id).map_err(|e| e.to_string())?;
            match (expected.get(&g.id), got) {
                (Some(exp), Some(inst)) => compare(&inst, exp)?,
                (Some(exp), None) => {
                    return Err(format!("instance {} missing (expected {exp:?})", g.id))
                }
                (None, Some(inst)) => {
                    return Err(format!("invented or rolled-back instance: {inst:?}"))
                }
                (None, None) => {}
            }
        }
        self.check_totals(store)
    }
}

type Expected = (Status, f64, Option<String>);

fn compare(inst: &ActivityInstance, exp: &Expected) -> Result<(), String> {
    let amount = match inst.item("Amount") {
        Some(Value::Float(f)) => Some(*f),
        _ => None,
    };
    let region = match inst.item("Region") {
        Some(Value::Text(t)) => Some(t.clone()),
        None => None,
        other => return Err(format!("{}: Region is {other:?}", inst.id)),
    };
    let customer_ok =
        matches!(inst.item("Customer"), Some(Value::Text(t)) if *t == format!("c {}", inst.id));
    if inst.status != exp.0 || amount != Some(exp.1) || region != exp.2 || !customer_ok {
        return Err(format!(
            "instance {} differs: got {inst:?}, expected {exp:?}",
            inst.id
        ));
    }
    Ok(())
}

/// Parses the complete `{"committed":LSN,"events":N}` lines of `out` (a
/// trailing partial line is not a receipt).
pub fn parse_receipts(out: &[u8]) -> Result<Vec<(u64, u64)>, String> {
    let text = String::from_utf8_lossy(out);
    let complete = match text.rfind('\n') {
        Some(p) => &text[..p],
        None => "",
    };
    complete
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).map_err(|e| format!("bad receipt {l:?}: {e}"))?;
            Ok((
                v["committed"].as_u64().ok_or("no committed")?,
                v["events"].as_u64().ok_or("no events")?,
            ))
        })
        .collect()
}

/// Opens the store in `dir` (it must open), runs `Store::verify` first
/// (no problem allowed), and checks it against the oracle.
pub fn verify_open_check(dir: &std::path::Path, oracle: &mut Oracle) -> Result<(), String> {
    verify_open_check_from(dir, oracle, None)
}

/// As [`verify_open_check`], with [`Oracle::check_recent`] from group
/// `from` when it is given (else the full [`Oracle::check`]).
pub fn verify_open_check_from(
    dir: &std::path::Path,
    oracle: &mut Oracle,
    from: Option<usize>,
) -> Result<(), String> {
    let report =
        Store::verify(dir, &StoreOptions::default()).map_err(|e| format!("verify: {e}"))?;
    if !report.problems.is_empty() {
        return Err(format!("verify found problems: {:?}", report.problems));
    }
    let store = Store::open(dir, StoreOptions::default())
        .map_err(|e| format!("store did not open: {e}"))?;
    match from {
        Some(from) => oracle.check_recent(&store, from)?,
        None => oracle.check(&store)?,
    }
    store.close().map_err(|e| format!("close: {e}"))
}

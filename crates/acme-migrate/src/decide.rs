//! The reconcile step: from what AWS reports, the one thing to do next.
//!
//! The weights AWS holds are the truth; the record of intent says what a run meant to do
//! with them. [`decide`] never moves ahead of what was judged: a step begins only once its
//! weights are live everywhere (Route 53 in sync), passes only after its TTL and bake with
//! every gate passing, and weights it finds without an intent that explains them are judged
//! from now before anything moves further. A failed gate rolls back at once.

use crate::gates::Verdict;
use crate::intent::{Intent, IntentState, Stage};
use crate::plan::{Knob, ServicePlan};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the person asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `migrate start`: move forward from wherever AWS says the migration is.
    Start,
    /// `migrate resume`: carry on with a paused or interrupted migration.
    Resume,
}

/// What [`decide`] looks at.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub plan: &'a ServicePlan,
    /// The new side's share of every knob, as AWS reports it (a knob not there reads 0).
    pub knobs: &'a BTreeMap<Knob, u8>,
    /// The service's record of intent, if it has one.
    pub intent: Option<&'a Intent>,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// This poll's gates, judged at the current stage's share.
    pub verdict: &'a Verdict,
    /// What this run last wrote, by knob; `None` before it wrote anything. Weights that
    /// differ from it were moved by someone else.
    pub written: Option<&'a BTreeMap<Knob, u8>>,
    pub command: Command,
}

/// The next thing to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Move every knob of `stage` to `percent` and record the intent `Moving`.
    Step { stage: Stage, percent: u8, step: Option<usize>, of: usize },
    /// The step's weights are out: wait for Route 53 to have them in sync (`change`), then
    /// record that the step began.
    AwaitSync { stage: Stage, percent: u8, change: Option<String> },
    /// The weights are where they should be: the step begins now (its TTL and bake start).
    Begin { stage: Stage, percent: u8 },
    /// Watch the gates until `until`.
    Bake { stage: Stage, percent: u8, until: u64 },
    /// A gate failed: the new side's share of `stage` goes back to 0 at once.
    RollBack { stage: Stage, why: String },
    /// Stop and leave the weights as they are. `pause`: record it as a pause, so that only
    /// `resume` carries on (a judgement a person must make); otherwise someone else acts on
    /// the weights and the run leaves the intent alone.
    Hold { why: String, pause: bool },
    /// The last step baked with every gate passing: record it, ready to finalize.
    Complete,
    /// Nothing left to do.
    Done,
    /// Do nothing, for this reason.
    Refuse { why: String },
}

pub fn decide(input: &Input<'_>) -> Action {
    let plan = input.plan;
    let stages = plan.stages();
    if stages.is_empty() {
        return Action::Refuse {
            why: plan.nothing_to_migrate.clone().unwrap_or_else(|| format!("{} has nothing to migrate", plan.service)),
        };
    }
    let share = |k: &Knob| input.knobs.get(k).copied().unwrap_or(0);
    if let Some(written) = input.written
        && let Some((knob, wrote)) = written.iter().find(|(k, w)| share(k) != **w)
    {
        return Action::Hold {
            why: format!(
                "the weights changed outside this run: {} is at {}% where this run set {wrote}%",
                describe(knob),
                share(knob)
            ),
            pause: false,
        };
    }
    let percent_of = |knobs: &[Knob]| knobs.iter().map(share).min().unwrap_or(0);
    let intent = input.intent.filter(|i| i.service == plan.service);
    let current = current_stage(&stages, input.knobs, intent).unwrap_or(stages.len() - 1);
    if let Some((later, knobs)) = stages[current + 1..].iter().find(|(_, knobs)| percent_of(knobs) > 0) {
        return Action::Hold {
            why: format!(
                "the {} stage is at {}% while the {} stage before it is at {}%: roll back {} first",
                later,
                percent_of(knobs),
                stages[current].0,
                percent_of(&stages[current].1),
                plan.service
            ),
            pause: false,
        };
    }
    let (stage, knobs) = (&stages[current].0, &stages[current].1);
    let stage = *stage;
    let p = percent_of(knobs);
    let aligned = knobs.iter().all(|k| share(k) == p);

    match intent.map(|i| &i.state) {
        Some(IntentState::Held { by, why }) if input.command == Command::Start => {
            return Action::Refuse {
                why: format!(
                    "{} is paused ({by}: {why}); resume it with `acmectl migrate resume {}`, or roll it back",
                    plan.service, plan.service
                ),
            };
        }
        Some(IntentState::RolledBack { by, why }) if input.command == Command::Resume => {
            return Action::Refuse {
                why: format!(
                    "{} was rolled back ({by}: {why}); start it again with `acmectl migrate start {}`",
                    plan.service, plan.service
                ),
            };
        }
        None if input.command == Command::Resume && p == 0 && stage == stages[0].0 => {
            return Action::Refuse {
                why: format!(
                    "{} has not started: there is nothing to resume; run `acmectl migrate start {}`",
                    plan.service, plan.service
                ),
            };
        }
        _ => {}
    }

    let here = intent.filter(|i| i.stage == stage);
    match here.map(|i| (i.percent, &i.state)) {
        // The step's weights were written; some may not have landed (a run killed between two
        // writes): the decision to take the step was made after its predecessor passed.
        Some((target, IntentState::Moving { .. })) if p < target || !aligned => {
            return step(plan, stage, target);
        }
        Some((target, IntentState::Moving { change })) if p == target => {
            return Action::AwaitSync { stage, percent: p, change: change.clone() };
        }
        Some((target, IntentState::Baking { began, ttl })) if target == p && aligned => {
            return bake(input, stage, p, *began + *ttl + plan.bake_seconds);
        }
        Some((100, IntentState::Complete)) if stage == Stage::Main && p == 100 => return Action::Done,
        _ => {}
    }
    if !aligned {
        // Knobs of one stage apart, and no intent that explains it: bring them together at
        // the lowest, never higher.
        return step(plan, stage, p);
    }
    if p == 0 {
        // Before the first step the gates are a pre-flight: the new side must answer.
        if !input.verdict.passed() {
            return Action::Refuse { why: format!("the new side is not ready: {}", reasons(input.verdict)) };
        }
        return step(plan, stage, plan.steps[0]);
    }
    // Weights with no intent for them (a run killed before it wrote one, a change by hand, a
    // resumed pause): judged from now, before anything moves further.
    Action::Begin { stage, percent: p }
}

/// The step at `percent` baking until `until`: roll back, keep baking, or move on.
fn bake(input: &Input<'_>, stage: Stage, percent: u8, until: u64) -> Action {
    let plan = input.plan;
    if !input.verdict.passed() {
        return Action::RollBack { stage, why: reasons(input.verdict) };
    }
    if input.now < until {
        return Action::Bake { stage, percent, until };
    }
    if let Some(split) = input.verdict.split().filter(|s| !s.passed) {
        // Clients that cache DNS past its TTL: give them one more bake, then ask a person.
        let extended = until + plan.bake_seconds.max(crate::plan::DNS_TTL_SECONDS);
        if input.now < extended {
            return Action::Bake { stage, percent, until: extended };
        }
        return Action::Hold {
            why: format!(
                "the observed split stays off the intended {percent}%: {} (expected {}); resume to judge it again",
                split.measured, split.threshold
            ),
            pause: true,
        };
    }
    if percent < 100 {
        return step(plan, stage, next_step(plan, percent));
    }
    match stage {
        Stage::FrontDoor => step(plan, Stage::Main, plan.steps[0]),
        Stage::Main => match input.verdict.baseline().filter(|b| !b.passed) {
            Some(b) => Action::RollBack { stage, why: b.summary() },
            None => Action::Complete,
        },
    }
}

fn step(plan: &ServicePlan, stage: Stage, percent: u8) -> Action {
    Action::Step {
        stage,
        percent,
        step: plan.steps.iter().position(|s| *s == percent).map(|i| i + 1),
        of: plan.steps.len(),
    }
}

/// Where the migration stands: the stage it is in (see [`current_stage`]) and its share (the
/// lowest of its knobs).
pub fn position(plan: &ServicePlan, knobs: &BTreeMap<Knob, u8>, intent: Option<&Intent>) -> Option<(Stage, u8)> {
    let stages = plan.stages();
    let current = current_stage(&stages, knobs, intent.filter(|i| i.service == plan.service))?;
    Some((stages[current].0, share_of(knobs, &stages[current].1)))
}

/// The index of the stage the migration is in: the first one not at 100 percent (the last
/// when all are), unless the intent is still on an earlier stage's last step. A stage at 100
/// percent is done only once that step has baked: until then its gates judge it, and the
/// next stage waits.
fn current_stage(stages: &[(Stage, Vec<Knob>)], knobs: &BTreeMap<Knob, u8>, intent: Option<&Intent>) -> Option<usize> {
    let first_short = stages.iter().position(|(_, ks)| share_of(knobs, ks) < 100);
    let current = first_short.unwrap_or(stages.len().checked_sub(1)?);
    let unfinished = intent
        .filter(|i| i.percent == 100)
        .filter(|i| {
            matches!(i.state, IntentState::Moving { .. } | IntentState::Baking { .. } | IntentState::Held { .. })
        })
        .and_then(|i| stages[..current].iter().position(|(s, _)| *s == i.stage));
    Some(unfinished.unwrap_or(current))
}

/// The share of a stage: the lowest of its knobs (a knob AWS does not report reads 0).
fn share_of(knobs: &BTreeMap<Knob, u8>, stage_knobs: &[Knob]) -> u8 {
    stage_knobs.iter().map(|k| knobs.get(k).copied().unwrap_or(0)).min().unwrap_or(0)
}

/// The first step of the schedule above `percent`.
pub fn next_step(plan: &ServicePlan, percent: u8) -> u8 {
    plan.steps.iter().copied().find(|s| *s > percent).unwrap_or(100)
}

fn reasons(verdict: &Verdict) -> String {
    verdict.failures().iter().map(|f| f.summary()).collect::<Vec<_>>().join("; ")
}

fn describe(knob: &Knob) -> String {
    match knob {
        Knob::Dns(host) => format!("the DNS of {host}"),
        Knob::Rules(host) => format!("the rule on {host}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::{Gate, GateResult};
    use crate::plan::plan_service;
    use acme_spec::fixture;

    const NOW: u64 = 1_765_000_000;
    const WWW: &str = "www.acme.example.com";
    const AUTH: &str = "auth.acme.example.com";

    fn plan_of(name: &str) -> ServicePlan {
        let p = fixture::acme();
        plan_service(&p, p.service(name).expect("service"))
    }

    fn knobs(pairs: &[(Knob, u8)]) -> BTreeMap<Knob, u8> {
        pairs.iter().cloned().collect()
    }

    fn dns(host: &str) -> Knob {
        Knob::Dns(host.into())
    }

    fn rules(host: &str) -> Knob {
        Knob::Rules(host.into())
    }

    fn intent(service: &str, stage: Stage, percent: u8, state: IntentState) -> Intent {
        Intent { service: service.into(), stage, percent, since: NOW - 10, run: "r1".into(), state }
    }

    fn failing(gate: Gate) -> Verdict {
        Verdict {
            results: vec![GateResult {
                gate,
                subject: "acme-auth-5xx-rate".into(),
                passed: false,
                measured: "ALARM at 12".into(),
                threshold: "not in ALARM, 5".into(),
                warning: None,
            }],
        }
    }

    struct Case {
        plan: ServicePlan,
        knobs: BTreeMap<Knob, u8>,
        intent: Option<Intent>,
        now: u64,
        verdict: Verdict,
        written: Option<BTreeMap<Knob, u8>>,
        command: Command,
    }

    impl Case {
        fn new(service: &str, knobs: BTreeMap<Knob, u8>) -> Case {
            Case {
                plan: plan_of(service),
                knobs,
                intent: None,
                now: NOW,
                verdict: Verdict::default(),
                written: None,
                command: Command::Start,
            }
        }
        fn intent(mut self, i: Intent) -> Case {
            self.intent = Some(i);
            self
        }
        fn at(mut self, now: u64) -> Case {
            self.now = now;
            self
        }
        fn verdict(mut self, v: Verdict) -> Case {
            self.verdict = v;
            self
        }
        fn written(mut self, w: BTreeMap<Knob, u8>) -> Case {
            self.written = Some(w);
            self
        }
        fn command(mut self, c: Command) -> Case {
            self.command = c;
            self
        }
        fn decide(&self) -> Action {
            decide(&Input {
                plan: &self.plan,
                knobs: &self.knobs,
                intent: self.intent.as_ref(),
                now: self.now,
                verdict: &self.verdict,
                written: self.written.as_ref(),
                command: self.command,
            })
        }
    }

    fn baking(service: &str, stage: Stage, percent: u8, began: u64) -> Intent {
        intent(service, stage, percent, IntentState::Baking { began, ttl: 60 })
    }

    #[test]
    fn a_fresh_migration_takes_the_first_step_once_the_new_side_answers() {
        let case = Case::new("auth", knobs(&[]));
        assert_eq!(case.decide(), Action::Step { stage: Stage::Main, percent: 1, step: Some(1), of: 5 });
        let not_ready = Case::new("auth", knobs(&[])).verdict(failing(Gate::Probe));
        assert!(
            matches!(not_ready.decide(), Action::Refuse { ref why } if why.starts_with("the new side is not ready"))
        );
    }

    #[test]
    fn a_step_begins_only_once_its_weights_are_in_sync() {
        let moving = intent("auth", Stage::Main, 1, IntentState::Moving { change: Some("C1".into()) });
        let case = Case::new("auth", knobs(&[(dns(AUTH), 1)])).intent(moving);
        assert_eq!(case.decide(), Action::AwaitSync { stage: Stage::Main, percent: 1, change: Some("C1".into()) });
    }

    #[test]
    fn a_step_waits_for_the_ttl_and_the_bake_then_moves_to_the_next() {
        let began = NOW;
        let case =
            |now| Case::new("auth", knobs(&[(dns(AUTH), 5)])).intent(baking("auth", Stage::Main, 5, began)).at(now);
        let until = began + 60 + 300;
        assert_eq!(case(began + 10).decide(), Action::Bake { stage: Stage::Main, percent: 5, until });
        assert_eq!(case(until - 1).decide(), Action::Bake { stage: Stage::Main, percent: 5, until });
        assert_eq!(case(until).decide(), Action::Step { stage: Stage::Main, percent: 25, step: Some(3), of: 5 });
    }

    #[test]
    fn rules_need_no_dns_ttl() {
        let case = Case::new("api", knobs(&[(dns(WWW), 100), (rules(WWW), 25)]))
            .intent(intent("api", Stage::Main, 25, IntentState::Baking { began: NOW, ttl: 0 }))
            .at(NOW + 1);
        assert_eq!(case.decide(), Action::Bake { stage: Stage::Main, percent: 25, until: NOW + 300 });
    }

    #[test]
    fn a_failed_gate_rolls_back_at_once_whatever_the_bake() {
        let case = Case::new("auth", knobs(&[(dns(AUTH), 25)]))
            .intent(baking("auth", Stage::Main, 25, NOW))
            .at(NOW + 5)
            .verdict(failing(Gate::Alarm));
        let Action::RollBack { stage, why } = case.decide() else { panic!("{:?}", case.decide()) };
        assert_eq!(stage, Stage::Main);
        assert_eq!(why, "alarm acme-auth-5xx-rate: ALARM at 12 (threshold not in ALARM, 5)");
    }

    #[test]
    fn the_last_step_completes_once_baked_and_as_good_as_the_old_side() {
        let base = || {
            Case::new("auth", knobs(&[(dns(AUTH), 100)])).intent(baking("auth", Stage::Main, 100, NOW)).at(NOW + 360)
        };
        assert_eq!(base().decide(), Action::Complete);
        let worse = base().verdict(Verdict {
            results: vec![GateResult {
                gate: Gate::Baseline,
                subject: "the old side's figures".into(),
                passed: false,
                measured: "p99 500 ms".into(),
                threshold: "p99 at most 438 ms (old side 350 ms)".into(),
                warning: None,
            }],
        });
        assert!(matches!(worse.decide(), Action::RollBack { ref why, .. } if why.contains("p99 500 ms")));
        let done = Case::new("auth", knobs(&[(dns(AUTH), 100)])).intent(intent(
            "auth",
            Stage::Main,
            100,
            IntentState::Complete,
        ));
        assert_eq!(done.decide(), Action::Done);
    }

    #[test]
    fn a_split_off_target_bakes_once_more_then_holds() {
        let split = Verdict {
            results: vec![GateResult {
                gate: Gate::Split,
                subject: "new side's share".into(),
                passed: false,
                measured: "3.0% of 1000 requests".into(),
                threshold: "12% to 42% of at least 100 requests".into(),
                warning: None,
            }],
        };
        let case = |now| {
            Case::new("auth", knobs(&[(dns(AUTH), 25)]))
                .intent(baking("auth", Stage::Main, 25, NOW))
                .at(now)
                .verdict(split.clone())
        };
        assert_eq!(case(NOW + 360).decide(), Action::Bake { stage: Stage::Main, percent: 25, until: NOW + 660 });
        assert!(
            matches!(case(NOW + 660).decide(), Action::Hold { ref why, pause: true } if why.contains("3.0% of 1000"))
        );
    }

    #[test]
    fn a_shared_host_moves_its_front_door_first_then_the_service() {
        let fresh = Case::new("api", knobs(&[]));
        assert_eq!(fresh.decide(), Action::Step { stage: Stage::FrontDoor, percent: 1, step: Some(1), of: 5 });
        let front_done =
            Case::new("api", knobs(&[(dns(WWW), 100)])).intent(baking("api", Stage::FrontDoor, 100, NOW)).at(NOW + 360);
        assert_eq!(front_done.decide(), Action::Step { stage: Stage::Main, percent: 1, step: Some(1), of: 5 });
        // The front door at 100 is its last step, judged like every other: synced, then baked,
        // before the service's own rule moves.
        let written = intent("api", Stage::FrontDoor, 100, IntentState::Moving { change: Some("C5".into()) });
        let front_written = Case::new("api", knobs(&[(dns(WWW), 100)])).intent(written.clone());
        assert_eq!(
            front_written.decide(),
            Action::AwaitSync { stage: Stage::FrontDoor, percent: 100, change: Some("C5".into()) }
        );
        let front_baking =
            Case::new("api", knobs(&[(dns(WWW), 100)])).intent(baking("api", Stage::FrontDoor, 100, NOW)).at(NOW + 10);
        assert_eq!(front_baking.decide(), Action::Bake { stage: Stage::FrontDoor, percent: 100, until: NOW + 360 });
        let failing_front = front_baking.verdict(failing(Gate::Alarm));
        assert!(matches!(failing_front.decide(), Action::RollBack { stage: Stage::FrontDoor, .. }));
        assert_eq!(
            position(&plan_of("api"), &knobs(&[(dns(WWW), 100)]), Some(&written)),
            Some((Stage::FrontDoor, 100))
        );
        assert_eq!(position(&plan_of("api"), &knobs(&[(dns(WWW), 100)]), None), Some((Stage::Main, 0)));
        // Another service on the host moved the front door already: api starts with its own.
        let moved_by_web = Case::new("api", knobs(&[(dns(WWW), 100)]));
        assert_eq!(moved_by_web.decide(), Action::Step { stage: Stage::Main, percent: 1, step: Some(1), of: 5 });
    }

    #[test]
    fn a_killed_run_resumes_at_the_step_aws_holds_and_never_jumps_ahead() {
        // Killed after writing the intent to go to 25 but before the rule moved: take that step.
        let written_intent = intent("api", Stage::Main, 25, IntentState::Moving { change: None });
        let case = Case::new("api", knobs(&[(dns(WWW), 100), (rules(WWW), 5)]))
            .intent(written_intent)
            .command(Command::Resume);
        assert_eq!(case.decide(), Action::Step { stage: Stage::Main, percent: 25, step: Some(3), of: 5 });
        // Killed mid-bake: the bake goes on from when the step began, nothing is skipped.
        let mid_bake =
            Case::new("auth", knobs(&[(dns(AUTH), 25)])).intent(baking("auth", Stage::Main, 25, NOW)).at(NOW + 100);
        assert_eq!(mid_bake.decide(), Action::Bake { stage: Stage::Main, percent: 25, until: NOW + 360 });
        // Weights with no intent that explains them: judged from now.
        let unexplained =
            Case::new("auth", knobs(&[(dns(AUTH), 50)])).intent(baking("auth", Stage::Main, 25, NOW - 1000));
        assert_eq!(unexplained.decide(), Action::Begin { stage: Stage::Main, percent: 50 });
    }

    #[test]
    fn weights_moved_under_a_running_loop_stop_it() {
        let case = Case::new("auth", knobs(&[(dns(AUTH), 0)]))
            .intent(baking("auth", Stage::Main, 25, NOW))
            .written(knobs(&[(dns(AUTH), 25)]));
        assert!(
            matches!(case.decide(), Action::Hold { ref why, .. } if why.contains("auth.acme.example.com is at 0% where this run set 25%"))
        );
    }

    #[test]
    fn knobs_of_one_stage_apart_come_together_at_the_lowest() {
        let mut p = fixture::acme();
        p.services[2].routes.push(acme_spec::Route { host: "login.acme.example.com".into(), path: None, port: 8080 });
        if let Some(l) = p.legacy.as_mut() {
            let side = l.hosts["auth.acme.example.com"].clone();
            l.hosts.insert("login.acme.example.com".into(), side);
        }
        let plan = plan_service(&p, p.service("auth").expect("auth"));
        let knobs = knobs(&[(dns(AUTH), 25), (dns("login.acme.example.com"), 5)]);
        let verdict = Verdict::default();
        let input = Input {
            plan: &plan,
            knobs: &knobs,
            intent: None,
            now: NOW,
            verdict: &verdict,
            written: None,
            command: Command::Start,
        };
        assert_eq!(decide(&input), Action::Step { stage: Stage::Main, percent: 5, step: Some(2), of: 5 });
    }

    #[test]
    fn paused_and_rolled_back_migrations_need_the_right_command() {
        let held = intent("auth", Stage::Main, 25, IntentState::Held { by: "alice".into(), why: "launch day".into() });
        let start = Case::new("auth", knobs(&[(dns(AUTH), 25)])).intent(held.clone());
        assert!(matches!(start.decide(), Action::Refuse { ref why } if why.contains("resume")));
        let resume = Case::new("auth", knobs(&[(dns(AUTH), 25)])).intent(held).command(Command::Resume);
        assert_eq!(resume.decide(), Action::Begin { stage: Stage::Main, percent: 25 });

        let rolled = intent("auth", Stage::Main, 25, IntentState::RolledBack { by: "gate".into(), why: "5xx".into() });
        let resume = Case::new("auth", knobs(&[])).intent(rolled.clone()).command(Command::Resume);
        assert!(matches!(resume.decide(), Action::Refuse { ref why } if why.contains("migrate start auth")));
        let again = Case::new("auth", knobs(&[])).intent(rolled);
        assert_eq!(again.decide(), Action::Step { stage: Stage::Main, percent: 1, step: Some(1), of: 5 });
        let nothing = Case::new("auth", knobs(&[])).command(Command::Resume);
        assert!(matches!(nothing.decide(), Action::Refuse { ref why } if why.contains("has not started")));
    }

    #[test]
    fn a_later_stage_ahead_of_an_earlier_one_holds() {
        let case = Case::new("api", knobs(&[(dns(WWW), 50), (rules(WWW), 25)]));
        assert!(
            matches!(case.decide(), Action::Hold { ref why, .. } if why.contains("front-door stage before it is at 50%"))
        );
    }

    #[test]
    fn a_schedule_from_acme_yaml_is_followed() {
        let mut case =
            Case::new("auth", knobs(&[(dns(AUTH), 10)])).intent(baking("auth", Stage::Main, 10, NOW)).at(NOW + 1000);
        case.plan.steps = vec![10, 60, 100];
        assert_eq!(case.decide(), Action::Step { stage: Stage::Main, percent: 60, step: Some(2), of: 3 });
    }

    #[test]
    fn services_with_nothing_to_move_are_refused() {
        let mut p = fixture::acme();
        p.legacy = None;
        let plan = plan_service(&p, p.service("auth").expect("auth"));
        let none = BTreeMap::new();
        let verdict = Verdict::default();
        let input = Input {
            plan: &plan,
            knobs: &none,
            intent: None,
            now: NOW,
            verdict: &verdict,
            written: None,
            command: Command::Start,
        };
        assert!(matches!(decide(&input), Action::Refuse { ref why } if why.contains("no old side")));
    }
}

//! The scheduler deploy and destroy share: every stack of a run starts as soon as the stacks
//! it waits for are done (independent ones in parallel), a stack waiting for one that failed
//! is skipped, and a [`Stop`] (Ctrl-C) ends the waiting without starting anything more.
//!
//! Deploy waits for the stacks a stack reads from; destroy for the stacks that read it. The
//! scheduler knows neither: it sees [`Node`]s, their prerequisites, and a job per node.

use crate::{Error, Event};
use std::collections::BTreeMap;
use std::future::Future;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Tells a running deploy or destroy to start no further stack.
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

/// The sending side of [`Stop`].
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

impl Stop {
    pub fn new() -> (StopHandle, Stop) {
        let (tx, rx) = watch::channel(false);
        (StopHandle(tx), Stop(rx))
    }

    /// A stop that never fires.
    pub fn never() -> Stop {
        Stop::new().1
    }

    pub fn fired(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the stop fires; never, if its handle is gone without firing.
    pub async fn wait(&mut self) {
        if self.0.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// One stack of a run, as the scheduler sees it.
pub(crate) trait Node {
    type Key: Copy + Ord + Send + 'static;
    fn key(&self) -> Self::Key;
    /// The name events and errors give it.
    fn name(&self) -> &str;
    /// The nodes that must be done before it starts; a key that is not in the run counts as
    /// done.
    fn after(&self) -> &[Self::Key];
}

/// Where each node of a run stands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Progress {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
}

/// What a run did.
#[derive(Debug)]
pub(crate) struct Ran<K, T> {
    /// The results of the nodes done, in the order they finished.
    pub done: Vec<(K, T)>,
    /// Why the run did not finish: [`Error::Interrupted`], or [`Error::Failed`] with the
    /// failures and the skipped nodes (its `deployed` left empty, for the caller to fill).
    pub error: Option<Error>,
}

/// Run `nodes`: each starts, in the order given, once every node it comes `after` is done;
/// `start` makes its job from the node and the results so far. A node whose job fails (or
/// cannot be made) emits [`Event::Failed`]; the nodes after it emit [`Event::Skipped`] with
/// `skip_reason` and do not start. When `stop` fires, the jobs still running are dropped
/// (only the waiting on them: what they started goes on) and the run ends
/// [`Error::Interrupted`].
pub(crate) async fn run<N, T, J>(
    nodes: &[N],
    skip_reason: &str,
    mut stop: Stop,
    emit: impl Fn(Event),
    mut start: impl FnMut(&N, &[(N::Key, T)]) -> Result<J, Error>,
) -> Ran<N::Key, T>
where
    N: Node,
    T: Send + 'static,
    J: Future<Output = Result<T, Error>> + Send + 'static,
{
    let mut progress: BTreeMap<N::Key, Progress> = nodes.iter().map(|n| (n.key(), Progress::Waiting)).collect();
    let mut done = vec![];
    let mut failures = vec![];
    let mut skipped = vec![];
    let mut tasks = JoinSet::new();
    loop {
        for n in nodes {
            if progress[&n.key()] != Progress::Waiting {
                continue;
            }
            let after: Vec<Progress> = n.after().iter().filter_map(|k| progress.get(k).copied()).collect();
            if after.iter().any(|p| matches!(p, Progress::Failed | Progress::Skipped)) {
                progress.insert(n.key(), Progress::Skipped);
                skipped.push(n.name().to_owned());
                emit(Event::Skipped { stack_name: n.name().to_owned(), reason: skip_reason.to_owned() });
                continue;
            }
            if stop.fired() || !after.iter().all(|p| *p == Progress::Done) {
                continue;
            }
            match start(n, &done) {
                Ok(job) => {
                    progress.insert(n.key(), Progress::Running);
                    let (key, name) = (n.key(), n.name().to_owned());
                    tasks.spawn(async move { (key, name, job.await) });
                }
                Err(e) => {
                    progress.insert(n.key(), Progress::Failed);
                    emit(Event::Failed { stack_name: n.name().to_owned(), reason: e.to_string() });
                    failures.push(e);
                }
            }
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            joined = tasks.join_next() => {
                let Some(joined) = joined else { continue };
                let (key, name, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                match result {
                    Ok(t) => {
                        progress.insert(key, Progress::Done);
                        done.push((key, t));
                    }
                    Err(e) => {
                        progress.insert(key, Progress::Failed);
                        emit(Event::Failed { stack_name: name, reason: e.to_string() });
                        failures.push(e);
                    }
                }
            }
            () = stop.wait(), if !stop.fired() => {}
        }
        if stop.fired() {
            let names = |want: Progress| -> Vec<String> {
                nodes.iter().filter(|n| progress[&n.key()] == want).map(|n| n.name().to_owned()).collect()
            };
            tasks.abort_all();
            let error = Error::Interrupted { running: names(Progress::Running), not_started: names(Progress::Waiting) };
            return Ran { done, error: Some(error) };
        }
    }
    let error = (!failures.is_empty()).then_some(Error::Failed { deployed: vec![], failures, skipped });
    Ran { done, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::time::{Instant, sleep};

    /// A node of a test run, named by its key, whose job takes `secs` seconds.
    struct Job {
        name: &'static str,
        secs: u64,
        after: Vec<&'static str>,
    }

    impl Node for Job {
        type Key = &'static str;
        fn key(&self) -> &'static str {
            self.name
        }
        fn name(&self) -> &str {
            self.name
        }
        fn after(&self) -> &[&'static str] {
            &self.after
        }
    }

    fn job(name: &'static str, secs: u64, after: &[&'static str]) -> Job {
        Job { name, secs, after: after.to_vec() }
    }

    /// What happened in a run, in order: "start x", "end x", and the events.
    type Log = Arc<Mutex<Vec<String>>>;

    fn note(log: &Log, line: String) {
        log.lock().expect("log").push(line);
    }

    fn lines(log: &Log) -> Vec<String> {
        log.lock().expect("log").clone()
    }

    fn failed(name: &str, reason: &str) -> String {
        format!("{:?}", Event::Failed { stack_name: name.into(), reason: reason.into() })
    }

    fn skipped(name: &str) -> String {
        format!("{:?}", Event::Skipped { stack_name: name.into(), reason: SKIP.into() })
    }

    const SKIP: &str = "a node it comes after failed";

    /// Run `nodes`, each job failing when its node is in `failing`; a job starts only once
    /// the nodes it comes after are done.
    async fn run_jobs(nodes: &[Job], failing: &[&'static str], stop: Stop) -> (Ran<&'static str, ()>, Log) {
        let log = Log::default();
        let (events, starts) = (log.clone(), log.clone());
        let ran = run(
            nodes,
            SKIP,
            stop,
            move |e| note(&events, format!("{e:?}")),
            |n: &Job, done: &[(&str, ())]| {
                assert!(n.after.iter().all(|a| done.iter().any(|(d, ())| d == a)), "{} started early", n.name);
                let (name, secs, log, fails) = (n.name, n.secs, starts.clone(), failing.contains(&n.name));
                note(&log, format!("start {name}"));
                Ok(async move {
                    sleep(Duration::from_secs(secs)).await;
                    note(&log, format!("end {name}"));
                    if fails { Err(Error::NotHealthy(format!("{name} broke"))) } else { Ok(()) }
                })
            },
        )
        .await;
        (ran, log)
    }

    fn done(ran: &Ran<&'static str, ()>) -> Vec<&'static str> {
        ran.done.iter().map(|(k, ())| *k).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_node_starts_once_its_prerequisites_are_done() {
        let nodes =
            [job("services", 1, &["cluster", "network"]), job("cluster", 1, &["network"]), job("network", 1, &[])];
        let (ran, log) = run_jobs(&nodes, &[], Stop::never()).await;
        assert!(ran.error.is_none(), "{:?}", ran.error);
        assert_eq!(done(&ran), ["network", "cluster", "services"]);
        assert_eq!(
            lines(&log),
            ["start network", "end network", "start cluster", "end cluster", "start services", "end services"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn independent_nodes_run_at_the_same_time() {
        let nodes =
            [job("network", 10, &[]), job("dns", 10, &[]), job("keys", 10, &[]), job("edge", 10, &["network", "dns"])];
        let began = Instant::now();
        let (ran, log) = run_jobs(&nodes, &[], Stop::never()).await;
        assert!(ran.error.is_none(), "{:?}", ran.error);
        // Two rounds of ten seconds: the three independent nodes together, then edge.
        assert_eq!(began.elapsed(), Duration::from_secs(20));
        assert_eq!(lines(&log)[..3], ["start network", "start dns", "start keys"]);
        assert_eq!(done(&ran).last(), Some(&"edge"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_nodes_after_a_failed_one_are_skipped_and_the_others_go_on() {
        let nodes = [
            job("network", 1, &[]),
            job("dns", 2, &[]),
            job("cluster", 1, &["network"]),
            job("services", 1, &["cluster", "dns"]),
            job("edge", 1, &["dns"]),
        ];
        let (ran, log) = run_jobs(&nodes, &["network"], Stop::never()).await;
        assert_eq!(done(&ran), ["dns", "edge"]);
        let Some(Error::Failed { deployed, failures, skipped: not_started }) = ran.error else {
            panic!("{:?}", ran.error)
        };
        assert!(deployed.is_empty());
        assert_eq!(failures.iter().map(ToString::to_string).collect::<Vec<_>>(), ["network broke"]);
        // services waits on dns too, but is skipped with cluster: it can never start.
        assert_eq!(not_started, ["cluster", "services"]);
        assert_eq!(
            lines(&log),
            [
                "start network".into(),
                "start dns".into(),
                "end network".into(),
                failed("network", "network broke"),
                skipped("cluster"),
                skipped("services"),
                "end dns".into(),
                "start edge".into(),
                "end edge".into()
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_that_cannot_be_made_fails_its_node() {
        let nodes = [job("network", 1, &[]), job("cluster", 1, &["network"]), job("dns", 1, &[])];
        let events = Log::default();
        let log = events.clone();
        let ran = run(
            &nodes,
            SKIP,
            Stop::never(),
            move |e| note(&log, format!("{e:?}")),
            |n: &Job, _: &[(&str, ())]| match n.name {
                "network" => Err(Error::NotHealthy("no inputs".into())),
                _ => Ok(async { Ok(()) }),
            },
        )
        .await;
        assert_eq!(done(&ran), ["dns"]);
        assert!(
            matches!(&ran.error, Some(Error::Failed { skipped, .. }) if skipped == &["cluster"]),
            "{:?}",
            ran.error
        );
        assert_eq!(lines(&events), [failed("network", "no inputs"), skipped("cluster")]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_the_waiting_and_starts_nothing_more() {
        let nodes = [
            job("network", 10, &[]),
            job("keys", 12, &[]),
            job("cluster", 10, &["network"]),
            job("edge", 1, &["cluster"]),
        ];
        let (handle, stop) = Stop::new();
        tokio::spawn(async move {
            sleep(Duration::from_secs(15)).await;
            handle.stop();
        });
        let began = Instant::now();
        let (ran, log) = run_jobs(&nodes, &[], stop).await;
        assert_eq!(began.elapsed(), Duration::from_secs(15), "it returns when the stop fires");
        assert_eq!(done(&ran), ["network", "keys"]);
        let Some(Error::Interrupted { running, not_started }) = ran.error else { panic!("{:?}", ran.error) };
        assert_eq!((running, not_started), (vec!["cluster".to_owned()], vec!["edge".to_owned()]));
        // The running job is dropped: it never ends, and edge never starts.
        sleep(Duration::from_secs(60)).await;
        assert_eq!(lines(&log), ["start network", "start keys", "end network", "start cluster", "end keys"]);
    }
}

//! The per-run request cache: every request acquisition sends goes through [`Requests`],
//! keyed by what the server is asked — a range query by (PromQL, start, end, step), an
//! instant query by (PromQL, time), the series, label and rules API calls by their
//! parameters — so an identical request is sent once per run and its parsed answer
//! shared (`Arc`). Callers asking while it is in flight wait on that one fetch; a failed
//! request is not sent again either (its error is shared too).
//!
//! Memory: range answers are the run's largest objects. A caller that moves the series
//! into its own data ([`Requests::take_range`]) leaves the cache a weak reference only,
//! so nothing is copied unless another caller holds the same answer; an identical range
//! asked while any holder is alive is still served from it. One asked after every holder
//! let go would be sent again: acquisition plans its rounds so that no request comes
//! after its answer was taken (the integration test `requests::` checks the server sees
//! each request once).
//!
//! Records: the cache does not write query records. [`attribute`] marks, in a finished
//! list of records, every record after the first one with the same request as served
//! from the cache: `requests: 0`, `shared_with` naming the record that sent it.

use crate::evidence::{QueryRecord, RequestKind};
use crate::prom::api::RulesData;
use crate::prom::{Answer, Client, InstantSample, Labels, PromError, RangeSeries};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::OnceCell;

/// A time or step as a key: the exact bits, since the client sends them to the millisecond
/// from the same `f64`.
type Bits = u64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RangeKey {
    promql: String,
    start: Bits,
    end: Bits,
    step: Bits,
}

/// One kind of request's answers: in flight or answered (`Live`), or answered and
/// released to their holders (`Released`).
enum Slot<V> {
    Live(Arc<OnceCell<Result<Arc<V>, PromError>>>),
    Released(Weak<V>),
}

struct Memo<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
}

/// What a caller waits on: an answer at hand, or the one fetch of its request.
enum Pending<V> {
    Ready(Arc<V>),
    Cell(Arc<OnceCell<Result<Arc<V>, PromError>>>),
}

impl<K: Eq + Hash, V> Memo<K, V> {
    fn new() -> Self {
        Memo {
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Registers the caller for `key`'s answer, now (not when first polled): a caller
    /// that registered before another took the answer is sure to share it.
    fn register(&self, key: K) -> Pending<V> {
        let mut slots = self
            .slots
            .lock()
            .expect("the cache's lock is never poisoned");
        let slot = slots
            .entry(key)
            .or_insert_with(|| Slot::Live(Arc::default()));
        if let Slot::Released(weak) = slot {
            match weak.upgrade() {
                Some(answer) => return Pending::Ready(answer),
                // Every holder let go: asked again, it is sent again (and counted).
                None => *slot = Slot::Live(Arc::default()),
            }
        }
        match slot {
            Slot::Live(cell) => Pending::Cell(cell.clone()),
            Slot::Released(_) => unreachable!("replaced above"),
        }
    }

    /// Leaves only a weak reference to `answer` under `key`.
    fn release(&self, key: K, answer: &Arc<V>) {
        self.slots
            .lock()
            .expect("the cache's lock is never poisoned")
            .insert(key, Slot::Released(Arc::downgrade(answer)));
    }
}

impl<V> Pending<V> {
    /// The shared answer: `fetch`'s when this caller is the first to wait for it.
    async fn wait<F>(self, sent: &AtomicUsize, fetch: F) -> Result<Arc<V>, PromError>
    where
        F: Future<Output = Result<V, PromError>>,
    {
        match self {
            Pending::Ready(answer) => Ok(answer),
            Pending::Cell(cell) => cell
                .get_or_init(|| async {
                    sent.fetch_add(1, Ordering::Relaxed);
                    fetch.await.map(Arc::new)
                })
                .await
                .clone(),
        }
    }
}

/// Instant queries and raw-sample queries (a range selector at one time) are the same
/// HTTP request but decode differently; both are keyed by (PromQL, time).
type InstantKey = (String, Bits);
type IndexKey = (Vec<String>, Bits, Bits);

fn range_key(promql: &str, start: f64, end: f64, step: f64) -> RangeKey {
    RangeKey {
        promql: promql.to_string(),
        start: start.to_bits(),
        end: end.to_bits(),
        step: step.to_bits(),
    }
}

/// A range answer registered ahead of the request that takes it, so it is shared with
/// that request whenever the tasks run (see [`Requests::query_range`]).
pub type SharedRange = std::pin::Pin<
    Box<dyn Future<Output = Result<Arc<Answer<Vec<RangeSeries>>>, PromError>> + Send>,
>;

/// The client and the run's answers, cheap to clone (shared state).
#[derive(Clone)]
pub struct Requests {
    client: Client,
    memo: Arc<Memos>,
    /// Distinct requests sent (each may be several HTTP requests: sliced ranges).
    sent: Arc<AtomicUsize>,
}

struct Memos {
    ranges: Memo<RangeKey, Answer<Vec<RangeSeries>>>,
    instants: Memo<InstantKey, Answer<Vec<InstantSample>>>,
    raw: Memo<InstantKey, Answer<Vec<RangeSeries>>>,
    series: Memo<IndexKey, Answer<Vec<Labels>>>,
    label_values: Memo<(String, IndexKey), Vec<String>>,
    label_names: Memo<IndexKey, Vec<String>>,
    rules: Memo<(), Answer<RulesData>>,
}

impl Requests {
    pub fn new(client: Client) -> Self {
        Requests {
            client,
            memo: Arc::new(Memos {
                ranges: Memo::new(),
                instants: Memo::new(),
                raw: Memo::new(),
                series: Memo::new(),
                label_values: Memo::new(),
                label_names: Memo::new(),
                rules: Memo::new(),
            }),
            sent: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The server's URL as safe to show.
    pub fn display_url(&self) -> &str {
        self.client.display_url()
    }

    /// Distinct requests sent so far (a request the cache served is not counted).
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// A range query's shared answer. Like every method here, the request is registered
    /// when this is called, and sent when the returned future is first awaited (by this
    /// caller or one asking for the same).
    pub fn query_range(
        &self,
        query_id: &str,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> impl Future<Output = Result<Arc<Answer<Vec<RangeSeries>>>, PromError>> + Send + 'static
    {
        let pending = self
            .memo
            .ranges
            .register(range_key(promql, start, end, step));
        let (client, sent) = (self.client.clone(), self.sent.clone());
        let (id, promql) = (query_id.to_string(), promql.to_string());
        async move {
            let fetch = client.query_range(&id, &promql, start, end, step);
            pending.wait(&sent, fetch).await
        }
    }

    /// A range query whose series the caller moves into its own data: the cache keeps a
    /// weak reference only, so they are not copied unless another caller holds them too.
    pub fn take_range(
        &self,
        query_id: &str,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> impl Future<Output = Result<Answer<Vec<RangeSeries>>, PromError>> + Send + 'static {
        let shared = self.query_range(query_id, promql, start, end, step);
        let (memo, key) = (self.memo.clone(), range_key(promql, start, end, step));
        async move {
            let answer = shared.await?;
            memo.ranges.release(key, &answer);
            Ok(Arc::try_unwrap(answer).unwrap_or_else(|held| (*held).clone()))
        }
    }

    pub fn query(
        &self,
        query_id: &str,
        promql: &str,
        time: f64,
    ) -> impl Future<Output = Result<Arc<Answer<Vec<InstantSample>>>, PromError>> + Send + 'static
    {
        let pending = self
            .memo
            .instants
            .register((promql.to_string(), time.to_bits()));
        let (client, sent) = (self.client.clone(), self.sent.clone());
        let (id, promql) = (query_id.to_string(), promql.to_string());
        async move {
            let fetch = client.query(&id, &promql, time);
            pending.wait(&sent, fetch).await
        }
    }

    pub fn query_raw(
        &self,
        query_id: &str,
        promql: &str,
        time: f64,
    ) -> impl Future<Output = Result<Arc<Answer<Vec<RangeSeries>>>, PromError>> + Send + 'static
    {
        let pending = self.memo.raw.register((promql.to_string(), time.to_bits()));
        let (client, sent) = (self.client.clone(), self.sent.clone());
        let (id, promql) = (query_id.to_string(), promql.to_string());
        async move {
            let fetch = client.query_raw(&id, &promql, time);
            pending.wait(&sent, fetch).await
        }
    }

    pub fn series(
        &self,
        query_id: &str,
        matches: &[String],
        start: f64,
        end: f64,
    ) -> impl Future<Output = Result<Arc<Answer<Vec<Labels>>>, PromError>> + Send + 'static {
        let key = (matches.to_vec(), start.to_bits(), end.to_bits());
        let pending = self.memo.series.register(key);
        let (client, sent) = (self.client.clone(), self.sent.clone());
        let (id, matches) = (query_id.to_string(), matches.to_vec());
        async move {
            let fetch = client.series(&id, &matches, start, end);
            pending.wait(&sent, fetch).await
        }
    }

    pub fn label_values(
        &self,
        name: &str,
        series_match: &str,
        start: f64,
        end: f64,
    ) -> impl Future<Output = Result<Arc<Vec<String>>, PromError>> + Send + 'static {
        let key = (
            name.to_string(),
            (
                vec![series_match.to_string()],
                start.to_bits(),
                end.to_bits(),
            ),
        );
        let pending = self.memo.label_values.register(key);
        let (client, sent) = (self.client.clone(), self.sent.clone());
        let (name, series_match) = (name.to_string(), series_match.to_string());
        async move {
            let fetch = client.label_values(&name, &series_match, start, end);
            pending.wait(&sent, fetch).await
        }
    }

    pub fn label_names(
        &self,
        series_match: &str,
        start: f64,
        end: f64,
    ) -> impl Future<Output = Result<Arc<Vec<String>>, PromError>> + Send + 'static {
        let key = (
            vec![series_match.to_string()],
            start.to_bits(),
            end.to_bits(),
        );
        let pending = self.memo.label_names.register(key);
        let (client, sent) = (self.client.clone(), self.sent.clone());
        let series_match = series_match.to_string();
        async move {
            let fetch = client.label_names(&series_match, start, end);
            pending.wait(&sent, fetch).await
        }
    }

    pub fn rules(
        &self,
    ) -> impl Future<Output = Result<Arc<Answer<RulesData>>, PromError>> + Send + 'static {
        let pending = self.memo.rules.register(());
        let (client, sent) = (self.client.clone(), self.sent.clone());
        async move { pending.wait(&sent, client.rules()).await }
    }
}

/// What a record asked the server, as the cache keys it.
fn record_key(record: &QueryRecord) -> (RequestKind, String, [Option<Bits>; 4]) {
    let bits = |v: Option<f64>| v.map(f64::to_bits);
    (
        record.kind,
        record.promql.clone(),
        [
            bits(record.start),
            bits(record.end),
            bits(record.step_seconds),
            bits(record.time),
        ],
    )
}

/// Marks the records whose request an earlier record in `records` already made: they
/// were served from the cache, so they claim no HTTP request and name the record that
/// sent it. Failed records are left alone (their error is the sender's).
pub fn attribute(records: &mut [QueryRecord]) {
    let mut first: HashMap<_, String> = HashMap::new();
    for record in records.iter_mut() {
        match first.get(&record_key(record)) {
            Some(sender) if record.ok => {
                record.requests = 0;
                record.shared_with = Some(sender.clone());
            }
            Some(_) => {}
            None => {
                first.insert(record_key(record), record.id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(n: usize) -> Result<Answer<Vec<usize>>, PromError> {
        Ok(Answer {
            data: vec![n],
            warnings: Vec::new(),
            requests: 1,
        })
    }

    /// `memo`'s answer for `key`, taken like [`Requests::take_range`] takes one.
    async fn take(
        memo: &Memo<&'static str, Answer<Vec<usize>>>,
        key: &'static str,
        sent: &AtomicUsize,
        n: usize,
    ) -> Result<Answer<Vec<usize>>, PromError> {
        let answer = memo
            .register(key)
            .wait(sent, async move { answer(n) })
            .await?;
        memo.release(key, &answer);
        Ok(Arc::try_unwrap(answer).unwrap_or_else(|held| (*held).clone()))
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let memo: Memo<&str, Answer<Vec<usize>>> = Memo::new();
        let sent = AtomicUsize::new(0);
        let slow = async {
            tokio::task::yield_now().await;
            answer(1)
        };
        let first = memo.register("q").wait(&sent, slow);
        let second = memo.register("q").wait(&sent, async { answer(2) });
        let (a, b) = tokio::join!(first, second);
        assert_eq!(sent.load(Ordering::Relaxed), 1);
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        let other = memo.register("r").wait(&sent, async { answer(3) }).await;
        assert_eq!(other.unwrap().data, vec![3]);
        assert_eq!(sent.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_registered_caller_shares_an_answer_taken_before_it_waits() {
        let memo: Memo<&str, Answer<Vec<usize>>> = Memo::new();
        let sent = AtomicUsize::new(0);
        let early = memo.register("q");
        let taken = take(&memo, "q", &sent, 1).await.unwrap();
        let shared = early.wait(&sent, async { answer(9) }).await.unwrap();
        assert_eq!((taken.data[0], shared.data[0]), (1, 1));
        assert_eq!(sent.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn taken_answers_are_moved_and_shared_while_held_and_errors_are_kept() {
        let memo: Memo<&str, Answer<Vec<usize>>> = Memo::new();
        let sent = AtomicUsize::new(0);
        let held = memo.register("q").wait(&sent, async { answer(1) }).await;
        let held = held.unwrap();
        // Held elsewhere: the taker gets a copy, the holder keeps the shared answer.
        let taken = take(&memo, "q", &sent, 9).await.unwrap();
        assert_eq!((taken.data[0], sent.load(Ordering::Relaxed)), (1, 1));
        let again = memo.register("q").wait(&sent, async { answer(9) }).await;
        assert!(Arc::ptr_eq(&held, &again.unwrap()));
        drop(held);
        // Nobody holds it: asked again, it is sent again (and counted).
        let after = take(&memo, "q", &sent, 7).await.unwrap();
        assert_eq!((after.data[0], sent.load(Ordering::Relaxed)), (7, 2));
        let failed = || async {
            Err(PromError::BadQuery {
                query_id: "x".into(),
                message: "bad".into(),
            })
        };
        assert!(memo.register("bad").wait(&sent, failed()).await.is_err());
        assert!(memo.register("bad").wait(&sent, failed()).await.is_err());
        assert_eq!(
            sent.load(Ordering::Relaxed),
            3,
            "a failure is not sent again"
        );
    }

    #[test]
    fn later_records_of_one_request_are_marked_shared() {
        let record = |id: &str, time: f64| QueryRecord {
            id: id.into(),
            kind: RequestKind::Instant,
            promql: "up".into(),
            time: Some(time),
            ok: true,
            requests: 1,
            ..Default::default()
        };
        let mut records = vec![record("a", 1.0), record("b", 2.0), record("c", 1.0)];
        attribute(&mut records);
        let shared: Vec<(usize, Option<&str>)> = records
            .iter()
            .map(|r| (r.requests, r.shared_with.as_deref()))
            .collect();
        assert_eq!(shared, vec![(1, None), (1, None), (0, Some("a"))]);
    }
}

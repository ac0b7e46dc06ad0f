//! What the bench hears from the workers' own logs: a tracing layer that
//! keeps the claim loop's `claimed` events (source, lateness) and the
//! daemon's `feedmerge running`, each with the worker whose runtime
//! thread logged it (threads are named `bench-w{N}`).

use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Prefix of every worker runtime's thread names.
pub const THREAD_PREFIX: &str = "bench-w";

/// One claim as the claim loop logged it.
#[derive(Debug, Clone)]
pub struct Claim {
    pub worker: usize,
    /// The source's number (`s{n}`).
    pub source: usize,
    /// Claim time − due time, seconds.
    pub late: f64,
    /// When it was logged, ms since the epoch.
    pub at_ms: i64,
}

/// Everything heard so far.
#[derive(Debug, Default)]
pub struct Heard {
    pub claims: Vec<Claim>,
    /// Workers that said `feedmerge running`.
    pub running: Vec<usize>,
}

/// The layer's shared record.
pub type Ear = Arc<Mutex<Heard>>;

struct Listener(Ear);

#[derive(Default)]
struct Fields {
    message: String,
    source: Option<usize>,
    late: Option<f64>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "source" => {
                let text = format!("{value:?}");
                self.source = text.trim_start_matches('s').parse().ok();
            }
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "late" {
            self.late = Some(value);
        }
    }
}

fn worker_of_thread() -> Option<usize> {
    std::thread::current()
        .name()?
        .strip_prefix(THREAD_PREFIX)?
        .parse()
        .ok()
}

impl<S: tracing::Subscriber> Layer<S> for Listener {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let Some(worker) = worker_of_thread() else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut heard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match (fields.message.as_str(), fields.source, fields.late) {
            ("claimed", Some(source), Some(late)) => heard.claims.push(Claim {
                worker,
                source,
                late,
                at_ms: chrono::Utc::now().timestamp_millis(),
            }),
            ("feedmerge running", _, _) => heard.running.push(worker),
            _ => {}
        }
    }
}

/// Installs the layer (and warnings and errors on stderr) as the global
/// subscriber.
pub fn install() -> Ear {
    let ear = Ear::default();
    let heard = Targets::new()
        .with_target("feedmerge::scheduler::claims", tracing::Level::TRACE)
        .with_target("feedmerge::daemon", tracing::Level::INFO);
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(LevelFilter::WARN))
        .with(Listener(Arc::clone(&ear)).with_filter(heard))
        .init();
    ear
}

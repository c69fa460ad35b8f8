//! What happened when: every fault injected and every step of the run, printed as it happens
//! (seconds since the start) and kept for the summary.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One line of the timeline.
#[derive(Debug, Clone)]
pub struct Event {
    pub at_secs: f64,
    pub kind: &'static str,
    pub text: String,
}

/// A shared, cheap-to-clone record of the run.
#[derive(Clone)]
pub struct Timeline {
    start: Instant,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Timeline {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            events: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn elapsed_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Prints and records an event of `kind` (`setup`, `fault`, `heal`, `check`, …).
    pub fn note(&self, kind: &'static str, text: impl Into<String>) {
        let event = Event {
            at_secs: self.elapsed_secs(),
            kind,
            text: text.into(),
        };
        println!("{}", format_event(&event));
        self.events.lock().expect("timeline").push(event);
    }

    /// The events of one kind, in order.
    pub fn of_kind(&self, kind: &str) -> Vec<Event> {
        self.events
            .lock()
            .expect("timeline")
            .iter()
            .filter(|e| e.kind == kind)
            .cloned()
            .collect()
    }
}

pub fn format_event(e: &Event) -> String {
    format!("[{:>7.2}s] {:<6} {}", e.at_secs, e.kind, e.text)
}

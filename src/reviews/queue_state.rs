//! The review queue's state in the browser, shared by the rows, the keyboard and the bulk bar:
//! which item the keyboard acts on, what is typed and selected, and the requests on their way.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;

use super::api::{review_decide, review_undo};
use crate::{error::AppError, review_items::Decision};

/// The id of the page's one list of people to hand items on to (every row's field uses it).
pub(super) const SUGGESTIONS: &str = "handover-suggestions";

/// A message in the queue's toast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Notice {
    pub ok: bool,
    pub text: String,
    /// The decision the message reports, which its Undo button takes back.
    pub undo: Option<LastDecision>,
}

/// The last decision made on this page: `u` and the notice's Undo take it back even after the
/// item left the list (decided under Show = Undecided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LastDecision {
    pub id: i64,
    pub version: i64,
    pub what: String,
}

/// What the open confirmation would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BulkChoice {
    Decide(Decision),
    /// Each selected item as its recommendation says.
    Accept,
}

impl BulkChoice {
    /// The id of the button that opens it (the focus goes back there).
    #[cfg(feature = "hydrate")]
    pub fn trigger(self) -> &'static str {
        match self {
            BulkChoice::Decide(Decision::Approve) => "bulk-approve",
            BulkChoice::Decide(_) => "bulk-revoke",
            BulkChoice::Accept => "bulk-accept",
        }
    }
}

/// State shared by the rows, the keyboard and the bulk bar; it outlives reloads of the list.
#[derive(Clone, Copy)]
pub(super) struct QueueState {
    pub reload: RwSignal<u32>,
    pub notice: RwSignal<Option<Notice>>,
    /// Comment / justification typed per item.
    pub comments: RwSignal<HashMap<i64, String>>,
    /// A refused decision's message, shown beside its item.
    pub errors: RwSignal<HashMap<i64, String>>,
    pub selected: RwSignal<HashSet<i64>>,
    /// The item the keyboard acts on; it always has the focus after a change.
    pub active: RwSignal<Option<i64>>,
    /// Items on the page in order, with their version and whether they are decided.
    pub order: RwSignal<Vec<(i64, i64, bool)>>,
    /// Items with a request on its way: further keys and clicks on them are ignored.
    pub in_flight: RwSignal<HashSet<i64>>,
    pub last: RwSignal<Option<LastDecision>>,
    /// The list reloads after a decision or an undo: the active item takes the focus then.
    pub refocus: RwSignal<bool>,
    /// Undecided items on the page with a recommendation.
    pub recommended: RwSignal<Vec<i64>>,
    /// The bulk confirmation (open for which decision) and its justification; kept here so a
    /// refused bulk decision leaves both as they were.
    pub confirming: RwSignal<Option<BulkChoice>>,
    pub bulk_justification: RwSignal<String>,
    pub bulk_pending: RwSignal<bool>,
    pub bulk_error: RwSignal<Option<String>>,
    /// Single-key shortcuts on (WCAG 2.1.4: people can turn them off).
    pub shortcuts: RwSignal<bool>,
    /// Where the reviewer left this page by a link, to return to once the list is drawn.
    #[cfg(feature = "hydrate")]
    pub resume: StoredValue<Option<super::position::Position>>,
}

impl QueueState {
    pub fn new() -> Self {
        Self {
            reload: RwSignal::new(0),
            notice: RwSignal::new(None),
            comments: RwSignal::new(HashMap::new()),
            errors: RwSignal::new(HashMap::new()),
            selected: RwSignal::new(HashSet::new()),
            active: RwSignal::new(None),
            order: RwSignal::new(Vec::new()),
            in_flight: RwSignal::new(HashSet::new()),
            last: RwSignal::new(None),
            recommended: RwSignal::new(Vec::new()),
            refocus: RwSignal::new(false),
            confirming: RwSignal::new(None),
            bulk_justification: RwSignal::new(String::new()),
            bulk_pending: RwSignal::new(false),
            bulk_error: RwSignal::new(None),
            shortcuts: RwSignal::new(true),
            #[cfg(feature = "hydrate")]
            resume: StoredValue::new(super::position::recall()),
        }
    }

    pub fn refresh(&self) {
        self.reload.update(|n| *n += 1);
    }

    pub fn say(&self, ok: bool, text: String) {
        self.notice.set(Some(Notice {
            ok,
            text,
            undo: None,
        }));
    }

    pub fn report(&self, result: Result<String, AppError>) {
        match result {
            Ok(message) => self.say(true, message),
            Err(error) => self.say(false, error.to_string()),
        }
        self.refresh();
    }

    /// Marks an item busy; false when a request for it is already on its way.
    fn start(&self, id: i64) -> bool {
        let mut fresh = false;
        self.in_flight.update(|f| fresh = f.insert(id));
        fresh
    }

    fn done(&self, id: i64) {
        self.in_flight.update(|f| {
            f.remove(&id);
        });
    }

    /// The undecided item after `id` in page order (or, at the end, the one before it): where
    /// the keyboard goes once `id` is decided, whether or not decided items stay listed.
    fn next_undecided(&self, id: i64) -> Option<i64> {
        self.order.with_untracked(|order| {
            let at = order.iter().position(|(i, _, _)| *i == id)?;
            let undecided = |(i, _, d): &&(i64, i64, bool)| !*d && *i != id;
            order[at..]
                .iter()
                .find(undecided)
                .or_else(|| order[..at].iter().rev().find(undecided))
                .map(|(i, _, _)| *i)
        })
    }

    pub fn decide(&self, id: i64, decision: Decision) {
        let Some((_, version, false)) = self
            .order
            .with_untracked(|o| o.iter().find(|(i, _, _)| *i == id).copied())
        else {
            return;
        };
        if !self.start(id) {
            return;
        }
        let justification = self
            .comments
            .with_untracked(|c| c.get(&id).cloned())
            .unwrap_or_default();
        let state = *self;
        leptos::task::spawn_local(async move {
            let result = review_decide(id, decision, justification, version).await;
            state.done(id);
            match result {
                Ok(item) => {
                    state.comments.update(|c| {
                        c.remove(&id);
                    });
                    state.errors.update(|e| {
                        e.remove(&id);
                    });
                    let last = LastDecision {
                        id,
                        version: item.version,
                        what: format!("{}, {}", item.subject(), item.what()),
                    };
                    state.notice.set(Some(Notice {
                        ok: true,
                        text: format!(
                            "{}: {}.",
                            last.what,
                            item.decision.map_or("undecided", Decision::label)
                        ),
                        undo: Some(last.clone()),
                    }));
                    state.last.set(Some(last));
                    state.active.set(state.next_undecided(id).or(Some(id)));
                    state.refocus.set(true);
                    state.refresh();
                }
                // Said where the person is looking: beside the item, with the focus in its
                // justification box (the usual reason for a refusal).
                Err(error) => {
                    state.errors.update(|e| {
                        e.insert(id, error.to_string());
                    });
                    state.active.set(Some(id));
                    #[cfg(feature = "hydrate")]
                    focus(&format!("comment-{id}"));
                }
            }
        });
    }

    /// Takes back a decision: the active item's, or with `None` the last one made here.
    pub fn undo(&self, target: Option<LastDecision>) {
        let Some(LastDecision { id, version, .. }) = target else {
            return;
        };
        if !self.start(id) {
            return;
        }
        let state = *self;
        leptos::task::spawn_local(async move {
            let result = review_undo(id, version).await;
            state.done(id);
            if result.is_ok() {
                state.last.update(|l| {
                    if l.as_ref().is_some_and(|l| l.id == id) {
                        *l = None;
                    }
                });
                state.active.set(Some(id));
                state.refocus.set(true);
            }
            state.report(result.map(|item| {
                format!(
                    "Decision on {}, {} undone: it is undecided again.",
                    item.subject(),
                    item.what()
                )
            }));
        });
    }

    /// The decided item `id` on this page, as something to undo.
    #[cfg(feature = "hydrate")]
    pub fn decided_here(&self, id: i64) -> Option<LastDecision> {
        self.order.with_untracked(|o| {
            o.iter()
                .find(|(i, _, d)| *i == id && *d)
                .map(|(id, version, _)| LastDecision {
                    id: *id,
                    version: *version,
                    what: String::new(),
                })
        })
    }

    #[cfg(feature = "hydrate")]
    pub fn step(&self, by: isize) {
        let order = self.order.get_untracked();
        if order.is_empty() {
            return;
        }
        let current = self
            .active
            .get_untracked()
            .and_then(|a| order.iter().position(|(i, _, _)| *i == a));
        let next = match current {
            None => 0,
            Some(i) => (i as isize + by).clamp(0, order.len() as isize - 1) as usize,
        };
        self.active.set(Some(order[next].0));
        focus(&format!("item-{}", order[next].0));
    }
}

/// Moves keyboard focus to an element.
#[cfg(feature = "hydrate")]
pub(super) fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(element) = leptos::prelude::document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

//! "Tasks": the revocations that wait for a person in Postmark. The list of tasks, and one
//! task's page (where its email links), on which each line is marked done or "could not do".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    api::{fulfilment_task, fulfilment_tasks, FulfilmentMark, TaskPage as TaskData},
    LineOutcome, TaskLine, TaskSummary, NOTE_MAX,
};
use crate::{
    components::{notice::ErrorNotice, time::Timestamp},
    revocations::{Status, Verification},
};

const NEEDS: &str = "admins, auditors and the people who carry out manual revocations";

#[component]
pub fn TasksPage() -> impl IntoView {
    let tasks = Resource::new(|| (), |_| fulfilment_tasks());
    view! {
        <Title text="Tasks" />
        <header class="page-header">
            <h1>"Tasks"</h1>
            <p class="lede">"Revocations no API can carry out, for a Postmark account admin to make by hand. Each task is one campaign's share (or offboarding's: people who left, emergency removals), emailed once to the people on the fulfilment list."</p>
        </header>
        <Suspense fallback=|| view! { <p class="loading">"Loading tasks…"</p> }>
            {move || Suspend::new(async move {
                match tasks.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty-state">"No manual revocations so far: every revocation had an API to carry it out."</p>
                    }.into_any(),
                    Ok(list) => view! { <TaskTable list /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error needs=NEEDS /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TaskTable(list: Vec<TaskSummary>) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Tasks">
            <table class="data-table tasks-table">
                <thead>
                    <tr>
                        <th scope="col">"Task"</th>
                        <th scope="col">"Campaign"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Lines"</th>
                        <th scope="col">"Still to do"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|t| view! {
                        <tr data-task-id=t.id.to_string()>
                            <td><A href=format!("/tasks/{}", t.id)>{format!("Task #{}", t.id)}</A></td>
                            <td>{t.campaign_name}</td>
                            <td class="nowrap"><Timestamp at=t.created_at /></td>
                            <td>{t.lines}</td>
                            <td>
                                {if t.open == 0 {
                                    view! { <span class="badge badge-ok">"None"</span> }.into_any()
                                } else {
                                    view! { <span class="badge badge-warn">{t.open}</span> }.into_any()
                                }}
                                {(t.not_effective > 0).then(|| view! {
                                    " " <span class="badge badge-bad">{format!("{} not effective", t.not_effective)}</span>
                                })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let mark = ServerAction::<FulfilmentMark>::new();
    // The line of the last mark, so a refusal is shown on that line (the action forgets its
    // input once it resolves).
    let last = RwSignal::new(None::<i64>);
    let task = Resource::new(
        move || (id(), mark.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => fulfilment_task(id).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Task" />
        <Suspense fallback=|| view! { <p class="loading">"Loading the task…"</p> }>
            {move || Suspend::new(async move {
                match task.await {
                    Ok(data) => view! { <TaskView data mark last /> }.into_any(),
                    Err(error) => view! {
                        <header class="page-header"><h1>"Task"</h1></header>
                        <ErrorNotice error needs=NEEDS />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TaskView(
    data: TaskData,
    mark: ServerAction<FulfilmentMark>,
    last: RwSignal<Option<i64>>,
) -> impl IntoView {
    let task = data.task;
    let open = task.lines.iter().filter(|l| l.is_open()).count();
    let emailed = if task.recipients.is_empty() {
        view! {
            <div class="notice notice-warn" role="note">
                <p>"Nobody was emailed about this task: set PAR_FULFILMENT_EMAILS to the Postmark account admins who should get it."</p>
            </div>
        }
        .into_any()
    } else {
        view! { <p class="muted">{format!("Emailed to {} on ", task.recipients.join(", "))} <Timestamp at=task.created_at.clone() /> "."</p> }
            .into_any()
    };
    let task_id = task.id;
    let can_mark = data.can_mark;
    view! {
        <header class="page-header">
            <h1>{format!("Task #{}", task.id)}</h1>
            <p class="lede">
                "Make each change below by hand in Postmark, then mark it. The next inventory sync checks every line marked done; access still in place shows as not effective. From "
                {match task.campaign_id {
                    Some(id) => view! { <A href=format!("/campaigns/{id}")>{task.campaign_name.clone()}</A> }.into_any(),
                    // Offboarding's page is for admins and auditors; the task is for Petra too.
                    None => view! { "offboarding (people who left, emergency removals)" }.into_any(),
                }}
                "."
            </p>
        </header>
        {emailed}
        <p class="count task-open">
            {if open == 0 { "Every line is closed.".to_string() } else { format!("{open} of {} lines still to do.", task.lines.len()) }}
        </p>
        <ol class="task-lines plain">
            {task.lines.into_iter().map(|line| view! { <Line line task_id can_mark mark last /> }).collect_view()}
        </ol>
        <p><A href="/tasks" exact=true>"All tasks"</A></p>
    }
}

/// The line's state in words, with the badge colour only repeating them.
fn state(line: &TaskLine) -> (&'static str, String) {
    match (line.status, line.outcome, line.verification) {
        (_, Some(LineOutcome::Done), Verification::Effective) => (
            "badge badge-ok",
            "Done · Effective: confirmed by the next sync".into(),
        ),
        (_, Some(LineOutcome::Done), Verification::NotEffective) => (
            "badge badge-bad",
            "Done · Not effective: the next sync still found it".into(),
        ),
        (_, Some(LineOutcome::Done), Verification::Unverified) => (
            "badge badge-muted",
            "Done · Not verified yet: the next sync decides".into(),
        ),
        (_, Some(LineOutcome::NotDone), _) => ("badge badge-bad", "Could not do".into()),
        (_, Some(LineOutcome::Withdrawn), _) => (
            "badge badge-muted",
            "Withdrawn: an admin retried or cancelled it".into(),
        ),
        (Status::Manual, None, _) => ("badge badge-warn", "To do".into()),
        (status, None, _) => ("badge badge-muted", status.label().to_string()),
    }
}

#[component]
fn Line(
    line: TaskLine,
    task_id: i64,
    can_mark: bool,
    mark: ServerAction<FulfilmentMark>,
    last: RwSignal<Option<i64>>,
) -> impl IntoView {
    let revocation_id = line.revocation_id;
    let (class, said) = state(&line);
    // Nobody confirms the removal of their own access; the server refuses it too.
    let own = crate::components::viewer::viewer().is_some_and(|v| {
        line.user_email
            .as_deref()
            .is_some_and(|user| user.eq_ignore_ascii_case(&v.email))
    });
    let note = RwSignal::new(String::new());
    let note_id = format!("note-{revocation_id}");
    let send = move |outcome: LineOutcome| {
        last.set(Some(revocation_id));
        mark.dispatch(FulfilmentMark {
            task_id,
            revocation_id,
            outcome: outcome.slug().to_string(),
            note: note.get_untracked(),
        });
    };
    // A refused mark is shown on the line it was for.
    let error = move || {
        let mine = last.get() == Some(revocation_id);
        match mark.value().get() {
            Some(Err(error)) if mine => Some(
                view! { <ErrorNotice error needs="admins and the people who carry out manual revocations" /> },
            ),
            _ => None,
        }
    };
    let marked = line.outcome.map(|_| {
        let by = line.by.clone().unwrap_or_default();
        let at = line.at.clone().map(|at| view! { " on " <Timestamp at /> });
        view! {
            <p class="muted marked">
                {format!("Marked by {by}")} {at} "."
                {line.note.clone().map(|n| view! { " " <q>{n}</q> })}
            </p>
        }
    });
    view! {
        <li class="task-line" data-revocation-id=revocation_id.to_string()>
            <p class="instruction"><strong>{line.instruction.clone()}</strong></p>
            <p>
                <span class=format!("{class} line-state")>{said}</span>
                {line.reason.clone().filter(|_| line.outcome.is_none()).map(|r| view! { " " <span class="muted">{r}</span> })}
            </p>
            {marked}
            {(can_mark && line.is_open() && own).then(|| view! {
                <p class="notice notice-warn own-line">"This line takes away your own access: someone else on the fulfilment list, or an admin, must confirm it."</p>
            })}
            {(can_mark && line.is_open() && !own).then(|| view! {
                <div class="mark">
                    <label for=note_id.clone()>"Note (needed for “Could not do”)"</label>
                    <textarea id=note_id class="task-note" rows="2" maxlength=NOTE_MAX.to_string()
                        prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                    <div class="actions">
                        <button type="button" class="button mark-done" disabled=move || mark.pending().get()
                            on:click=move |_| send(LineOutcome::Done)>"Done"</button>
                        <button type="button" class="button-secondary mark-not-done" disabled=move || mark.pending().get()
                            on:click=move |_| send(LineOutcome::NotDone)>"Could not do"</button>
                    </div>
                </div>
            })}
            <div aria-live="polite">{error}</div>
        </li>
    }
}

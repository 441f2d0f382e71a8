//! `GET /v1/events`: the audit chain as a stream of events, paged as JSON or
//! followed live as server-sent events (`Accept: text/event-stream`).
//!
//! Each event is an envelope around one audit record:
//! `{seq, type, version: 1, workspace_id, time, data, hash}`; `seq` and
//! `hash` are the record's place and link in the chain, so a consumer can
//! check what it was sent against `captoken audit verify`.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};

use super::*;
use crate::gateway::StoredEvent;

/// The envelope's own version (not the record's `v`).
const ENVELOPE_VERSION: u64 = 1;
/// Events per page when `limit` is not given.
const DEFAULT_PAGE: u32 = 100;
/// How often a stream looks for records another writer of the same file
/// (`captoken revoke --db`) appended, when this process committed nothing.
const POLL: Duration = Duration::from_secs(1);

fn envelope(event: &StoredEvent) -> Value {
    let record = &event.record;
    json!({
        "seq": event.seq,
        "type": record.get("event"),
        "version": ENVELOPE_VERSION,
        "workspace_id": event.workspace_id,
        "time": record.get("time"),
        "data": record.get("data"),
        "hash": event.hash,
    })
}

/// `GET /v1/events?workspace_id=…&after=…&limit=…` (admin).
pub(super) async fn events(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    gw.admin.check(&headers).await?;
    let mut params = query_params(query)?;
    let workspace = query_workspace(&mut params)?;
    let seq = |name: &str, text: &str| {
        text.parse::<i64>()
            .ok()
            .filter(|n| *n >= -1)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_value",
                    format!(
                        "`{name}` must be an event's `seq` (an integer, -1 for before the first)"
                    ),
                )
            })
    };
    let after = params
        .remove("after")
        .map(|text| seq("after", &text))
        .transpose()?;
    let limit = query_limit(&mut params, DEFAULT_PAGE)?;
    no_other_parameters(&params)?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if !wants_stream {
        // A page, from the start of the chain unless `after` says.
        let after = after.unwrap_or(-1);
        let page = blocking(gw, move |store| {
            store.events(workspace.as_deref(), after, limit)
        })
        .await?;
        let next = page.last().map_or(after, |event| event.seq);
        let events: Vec<Value> = page.iter().map(envelope).collect();
        return Ok(axum::Json(json!({ "events": events, "next_after": next })).into_response());
    }

    // A stream resumes after the last event its client saw (the SSE
    // `Last-Event-ID`, or `after`); without either it starts at the head:
    // new events only.
    let resume = match headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
    {
        Some(text) => Some(seq("Last-Event-ID", text)?),
        None => after,
    };
    let start = match resume {
        Some(after) => after,
        None => blocking(gw, |store| store.last_event_seq())
            .await?
            .unwrap_or(-1),
    };
    let commits = gw.store.commits();
    let state = (
        gateway.clone(),
        workspace,
        start,
        commits,
        Vec::<Event>::new(),
    );
    let stream = futures_util::stream::unfold(state, move |state| async move {
        let (gateway, workspace, mut after, mut commits, mut pending) = state;
        loop {
            if let Some(event) = pending.pop() {
                return Some((
                    Ok::<_, Infallible>(event),
                    (gateway, workspace, after, commits, pending),
                ));
            }
            let ws = workspace.clone();
            let page = blocking(&gateway.inner, move |store| {
                store.events(ws.as_deref(), after, limit)
            })
            .await;
            match page {
                Ok(page) if !page.is_empty() => {
                    after = page.last().map_or(after, |event| event.seq);
                    // Popped from the end: keep them in reverse.
                    pending = page
                        .iter()
                        .rev()
                        .map(|event| {
                            Event::default()
                                .id(event.seq.to_string())
                                .event(
                                    event
                                        .record
                                        .get("event")
                                        .and_then(Value::as_str)
                                        .unwrap_or("event"),
                                )
                                .data(envelope(event).to_string())
                        })
                        .collect();
                }
                // Nothing new: wait for a commit here, or poll for others'.
                Ok(_) => {
                    if let Ok(Err(_)) = tokio::time::timeout(POLL, commits.changed()).await {
                        // The store is closing: so is the stream.
                        return None;
                    }
                }
                // The store failed: end the stream; the client resumes.
                Err(_) => return None,
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

//! Status lists: every token this gateway issues gets a place (a bit) in
//! one, and `GET /v1/status-lists/{n}` publishes list `n` signed by the
//! module, one bit per place, set when its token is revoked.
//!
//! Places come from the store in blocks ([`PLACE_BLOCK`]), shared by all
//! gateways on one database, so each is handed out once. Place `p` is bit
//! `p mod 2^20` of list `p / 2^20`: a list always has 2^20 bits, so a token
//! issued after a list was signed still falls inside that list (unset).

use super::*;
use crate::gateway::Live;

/// Bits of a place that are its index in its list.
const LIST_BITS: u32 = 20;
/// Places (bits) in one list: 1,048,576.
pub(super) const LIST_SIZE: i64 = 1 << LIST_BITS;
/// Places a gateway reserves in one write.
const PLACE_BLOCK: i64 = 256;
/// A list number beyond any store: 2^24 lists of 2^20 places.
const MAX_LISTS: u64 = 1 << 24;

/// The places reserved by this process and not yet handed out.
#[derive(Debug, Default)]
pub(crate) struct Places {
    free: tokio::sync::Mutex<std::ops::Range<i64>>,
}

/// A fresh place for a token, and the `status` claim naming it. Places are
/// never reused: one reserved and then not signed (a denied request) stays
/// an unset bit.
pub(super) async fn status_place(gw: &Inner) -> Result<(i64, Value), ApiError> {
    let place = {
        let mut free = gw.places.free.lock().await;
        if free.is_empty() {
            let first = blocking(gw, |store| store.reserve_status(PLACE_BLOCK)).await?;
            *free = first..first.saturating_add(PLACE_BLOCK);
        }
        let place = free.start;
        free.start = place.saturating_add(1);
        place
    };
    Ok((place, place_claim(gw, place)))
}

/// The `status` claim naming `place`.
pub(super) fn place_claim(gw: &Inner, place: i64) -> Value {
    let (n, idx) = (place >> LIST_BITS, place & (LIST_SIZE - 1));
    json!({ "status_list": { "idx": idx, "uri": list_uri(gw, n) } })
}

/// Status list `n`'s URI: its `sub`, and what its tokens' claims name.
pub(super) fn list_uri(gw: &Inner, n: i64) -> String {
    format!(
        "{}/v1/status-lists/{n}",
        gw.public_url().trim_end_matches('/')
    )
}

/// How many lists the places handed out so far (below `next`) span.
pub(super) fn list_count(next: i64) -> i64 {
    next.saturating_add(LIST_SIZE - 1) >> LIST_BITS
}

/// `GET /v1/status-lists/{n}`: public, like the id list.
pub(super) async fn status_list(
    State(gateway): State<Gateway>,
    axum::extract::Path(n): axum::extract::Path<String>,
) -> Response {
    signed_status_list(&gateway, &n)
        .await
        .unwrap_or_else(public_refusal)
}

async fn signed_status_list(gateway: &Gateway, n: &str) -> Result<Response, ApiError> {
    let gw = &*gateway.inner;
    let live: Arc<Live> = gateway.live();
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_status_list",
            format!("`{n}` is not the number of a status list this gateway publishes"),
        )
    };
    // Digits only: one spelling per list, so one cache entry per list.
    let number = Some(n)
        .filter(|n| n == &"0" || (!n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|&n| n < MAX_LISTS)
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(unknown)?;
    let next = blocking(gw, |store| store.status_next()).await?;
    if number >= list_count(next) {
        return Err(unknown());
    }
    let at = now();
    let interval = list_interval(gw);
    let key = ListKey::Status(number.unsigned_abs());
    let body = kept_or_signed(gw, &live, key, at, || async {
        let from = number << LIST_BITS;
        let snapshot = blocking(gw, move |store| {
            store.status_revoked(from, from.saturating_add(LIST_SIZE))
        })
        .await?;
        let uri = list_uri(gw, number);
        let revoked: Vec<i64> = snapshot.revoked.iter().map(|p| p - from).collect();
        let count = revoked.len();
        let exp = at.saturating_add(interval);
        let signed = gw
            .module
            .call_signed(
                gw.ops.status_list_sign,
                "status_list_sign",
                Arc::clone(&live.key.signer),
                live.key.public_jwk.clone(),
                json!({
                    "list": {
                        "iss": gw.config.issuer,
                        "sub": uri,
                        "iat": at,
                        "exp": exp,
                        "ttl": list_max_age(interval),
                        "size": LIST_SIZE,
                        "revoked": revoked,
                    },
                }),
                "list",
            )
            .await;
        let too_large = || {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "status_list_too_large",
                format!(
                    "{count} revoked places of status list {number} do not fit one request to \
                     sign it. This gateway still refuses every one of them in /v1/tokens/verify"
                ),
            )
            .with("count", Value::from(count))
        };
        let signed = signed_or_refused(signed, snapshot.seq, "status_list_too_large", too_large)?;
        let body = json!({
            "list": signed.get("list"),
            "kid": signed.get("kid"),
            "iss": gw.config.issuer,
            "uri": uri,
            "seq": snapshot.seq,
            "iat": at,
            "exp": exp,
            "size": LIST_SIZE,
            "count": count,
        });
        Ok((snapshot.seq, body))
    })
    .await?;
    Ok(list_response(body, interval))
}

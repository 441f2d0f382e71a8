//! `revoke`: revoke a token id directly in a gateway's store.

use std::sync::Arc;

use captoken_core::token::is_token_id;
use captoken_host::gateway::{Auditor, Store, StoreError};
use captoken_host::now;
use clap::Args;
use serde_json::json;

use super::fail::CliError;
use super::{print_json, print_line};

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// The gateway's store: its SQLite file (it must exist) or
    /// postgres://…; a running gateway sees the revocation at its next
    /// verify [env: CAPTOKEN_DATABASE_URL]
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// The token id: an issued token's `jti`, or a delegated token's id
    /// (`rootjti.childjti…`, as verify reports it)
    #[arg(value_name = "ID", allow_hyphen_values = true)]
    id: String,
    /// Why, for the revocation list and the audit log
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    reason: Option<String>,
    /// Who is revoking, as recorded in the store
    #[arg(long, value_name = "PRINCIPAL", default_value = "cli")]
    by: String,
    /// Print the result as one JSON object
    #[arg(long)]
    json: bool,
}

pub(crate) fn revoke(args: &RevokeArgs) -> Result<(), CliError> {
    if !is_token_id(&args.id) {
        return Err(CliError::usage(
            "invalid_value",
            format!(
                "`{}` is not a token id: a `jti` (base64url of at least 128 bits), or \
                 a delegated token's `jti`s joined by `.`",
                args.id
            ),
        ));
    }
    if args.reason.as_deref() == Some("") {
        return Err(CliError::usage(
            "invalid_value",
            "`--reason` must not be empty",
        ));
    }
    let db = super::database(args.db.as_deref(), None)?;
    if let Some(file) = db.sqlite_path()
        && !file.is_file()
    {
        // Opening would create an empty store, which no gateway reads.
        return Err(CliError::usage(
            "io_error",
            format!(
                "`{}` does not exist (start `captoken serve` once to create it)",
                file.display()
            ),
        ));
    }
    let runtime = Arc::new(super::runtime()?);
    let store = Store::open_database(&db, Auditor::new(runtime)?)
        .map_err(|err| CliError::setup(err.code(), err.to_string()))?;
    let done = store
        .revoke(
            &args.id,
            &args.by,
            args.reason.as_deref(),
            now(),
            "token_revoked",
        )
        .map_err(|err| match err {
            // What the id names is the answer, not a broken set-up.
            StoreError::UnknownToken(_) | StoreError::AmbiguousId { .. } => {
                CliError::rejected(err.code(), refusal(&err))
            }
            err => CliError::setup(err.code(), err.to_string()),
        })?;
    if args.json {
        return print_json(&json!({
            "id": done.id,
            "jti": args.id,
            "revoked": true,
            "revoked_at": done.revoked_at,
            "already_revoked": done.already_revoked,
            "known_token": done.known_token,
            "rows_marked": done.rows_marked,
        }));
    }
    if done.already_revoked {
        print_line(&format!(
            "`{}` was already revoked at {}; nothing changed",
            done.id, done.revoked_at
        ))
    } else {
        let known = if done.known_token {
            "recorded by this gateway"
        } else {
            "delegated below a token of this gateway, never recorded itself"
        };
        print_line(&format!(
            "revoked `{}` at {} ({known}; {} stored token(s) marked), on disk and in the audit log",
            done.id, done.revoked_at, done.rows_marked
        ))
    }
}

/// The refusal of an id that names no single recorded token.
fn refusal(err: &StoreError) -> String {
    match err {
        StoreError::AmbiguousId { id, candidates } => format!(
            "`{id}` is the jti of several recorded delegated tokens; revoke one by its id: {}",
            candidates.join(" ")
        ),
        other => format!(
            "{other}; revoke by the id verify reports (a delegated token's is its chain's \
             jtis joined by `.`)"
        ),
    }
}

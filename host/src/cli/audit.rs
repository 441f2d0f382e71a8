//! `audit verify`: check the audit hash chain stored in a gateway database.

use std::sync::Arc;

use captoken_host::gateway::{AuditReport, AuditVerifyError, Auditor, verify_log};
use clap::Args;
use serde_json::json;

use super::fail::CliError;
use super::{print_json, print_line};

#[derive(Debug, Args)]
pub(crate) struct AuditVerifyArgs {
    /// The gateway's store: its SQLite file or postgres://… (read in one
    /// read-only snapshot; running gateways may keep writing)
    /// [env: CAPTOKEN_DATABASE_URL]
    #[arg(long, value_name = "FILE|URL")]
    db: Option<String>,
    /// A head printed by an earlier verify (or kept anywhere the log's
    /// writer cannot reach): the chain must still pass through that record.
    /// Without it, records cut from the end of the log, or a log rewritten
    /// from scratch, cannot be told from a genuine shorter log.
    #[arg(long, value_name = "HASH", allow_hyphen_values = true)]
    head: Option<String>,
    /// Print the result as one JSON object
    #[arg(long)]
    json: bool,
}

pub(crate) fn verify(args: &AuditVerifyArgs) -> Result<(), CliError> {
    let db = super::database(args.db.as_deref(), None)?;
    let runtime = Arc::new(super::runtime()?);
    let auditor = Auditor::new(runtime)?;
    let report = verify_log(&db, &auditor, args.head.as_deref()).map_err(|err| match err {
        AuditVerifyError::Host(err) => CliError::Host(err),
        other => CliError::setup(other.code(), other.to_string()),
    })?;
    match report {
        AuditReport::Valid {
            count,
            last_seq,
            head,
            anchor_seq,
        } => {
            if args.json {
                return print_json(&json!({
                    "valid": true,
                    "count": count,
                    "first_seq": 0,
                    "last_seq": last_seq,
                    "head": head,
                    "anchor_seq": anchor_seq,
                }));
            }
            print_line(&format!(
                "audit log ok: {count} records, seq 0 to {last_seq}, every hash and link verified"
            ))?;
            if let Some(seq) = anchor_seq {
                print_line(&format!("anchor   found at seq {seq}"))?;
            }
            print_line(&format!(
                "head     {head}\n         (keep it; pass it as --head next time to detect records cut from the end)"
            ))
        }
        AuditReport::Empty => {
            if args.json {
                return print_json(&json!({
                    "valid": true,
                    "count": 0,
                    "first_seq": null,
                    "last_seq": null,
                    "head": null,
                    "anchor_seq": null,
                }));
            }
            print_line(
                "audit log is empty: nothing recorded yet (an emptied log looks the same; \
                 only --head tells them apart)",
            )
        }
        AuditReport::Tampered { code, seq, message } => {
            if args.json {
                print_json(&json!({
                    "valid": false,
                    "code": code,
                    "seq": seq,
                    "message": message,
                }))?;
            }
            let at = seq.map_or_else(String::new, |seq| format!("at seq {seq}: "));
            Err(CliError::rejected(&code, format!("{at}{message}")))
        }
    }
}

//! `policy check` and `policy explain`: a policy file through the module's
//! own checker and evaluator, the same ones the gateway runs.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::fail::CliError;
use super::files::read_json;
use super::{print_json, print_line};

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy document; print its rules and TTL cap
    #[command(after_help = "Example:
  captoken policy check captoken-data/policy.json

Exit status: 0 valid, 1 invalid (the code and the path of the fault on
stderr), 2 the file cannot be read or is not JSON.")]
    Check(CheckArgs),
    /// Show, rule by rule, what a request would be granted and why
    #[command(after_help = "Example:
  echo '{\"subject\": {\"id\": \"agent-7\"},
        \"capabilities\": [{\"actions\": [\"read\"], \"resources\": [\"pii:records\"]}],
        \"ttl\": 600}' > request.json
  captoken policy explain captoken-data/policy.json --request request.json

The request is what the gateway builds from POST /v1/tokens: `subject`
(`id` and optional `attributes`), `capabilities`, optional `ttl`
(docs/POLICY.md).

Exit status: 0 granted, 1 denied (the policy's code on stderr) or a policy
or request the module refuses, 2 a file cannot be read or is not JSON.")]
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The policy file (JSON, docs/POLICY.md)
    #[arg(value_name = "FILE")]
    policy: PathBuf,
    /// Print the module's answer, with the policy's normal form
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The policy file (JSON, docs/POLICY.md)
    #[arg(value_name = "FILE")]
    policy: PathBuf,
    /// The request to evaluate (JSON file)
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// Print the whole trace as JSON
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(command: &PolicyCommand) -> Result<(), CliError> {
    match command {
        PolicyCommand::Check(args) => check(args),
        PolicyCommand::Explain(args) => explain(args),
    }
}

fn check(args: &CheckArgs) -> Result<(), CliError> {
    let policy = read_json(&args.policy)?;
    let runtime = super::runtime()?;
    let checked =
        runtime.call_json(runtime.op_id("policy_check")?, &json!({ "policy": policy }))?;
    if args.json {
        return print_json(&checked);
    }
    let rules = checked.get("rules").and_then(Value::as_u64).unwrap_or(0);
    let max_ttl = checked
        .get("max_ttl")
        .map_or_else(|| "none".to_owned(), ToString::to_string);
    print_line(&format!(
        "policy ok: {rules} rule(s), tokens live at most {max_ttl} s"
    ))?;
    let normal = checked.get("policy").and_then(|p| p.get("rules"));
    for rule in normal.and_then(Value::as_array).into_iter().flatten() {
        print_line(&format!(
            "  {:<6} {}",
            rule.get("effect").and_then(Value::as_str).unwrap_or("?"),
            rule.get("id").and_then(Value::as_str).unwrap_or("?"),
        ))?;
    }
    Ok(())
}

fn explain(args: &ExplainArgs) -> Result<(), CliError> {
    let policy = read_json(&args.policy)?;
    let request = read_json(&args.request)?;
    let runtime = super::runtime()?;
    let trace = runtime.call_json(
        runtime.op_id("policy_explain")?,
        &json!({ "policy": policy, "request": request }),
    )?;
    let decision = trace.get("decision").cloned().unwrap_or(Value::Null);
    if args.json {
        print_json(&trace)?;
    } else {
        for rule in trace
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            print_line(&describe_rule(rule))?;
        }
        print_line(&describe_decision(&trace, &decision))?;
    }
    if decision.get("decision").and_then(Value::as_str) == Some("granted") {
        Ok(())
    } else {
        let code = decision
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("denied");
        let reason = decision
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("the policy denied the request");
        Err(CliError::rejected(code, reason))
    }
}

fn describe_rule(rule: &Value) -> String {
    let text = |name: &str| rule.get(name).and_then(Value::as_str).unwrap_or("?");
    let yes = |name: &str| rule.get(name).and_then(Value::as_bool) == Some(true);
    let effect = text("effect");
    let outcome = if !yes("subject_matched") {
        "subject not matched".to_owned()
    } else {
        let by = text("matched_by");
        let what = match (effect, yes("overlapped")) {
            ("deny", true) => "DENIED the request".to_owned(),
            ("deny", false) => "nothing requested overlaps it".to_owned(),
            (_, true) => {
                let n = rule
                    .get("contributed")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let cap = rule
                    .get("ttl_cap")
                    .filter(|cap| !cap.is_null())
                    .map_or_else(String::new, |cap| format!(", ttl capped at {cap} s"));
                format!("contributed {n} capability(ies){cap}")
            }
            (_, false) => "nothing requested is within it".to_owned(),
        };
        format!("subject matched by {by}; {what}")
    };
    format!("rule {:<24} {effect:<5}  {outcome}", text("id"))
}

fn describe_decision(trace: &Value, decision: &Value) -> String {
    let steps = trace
        .get("steps")
        .map_or_else(String::new, |s| format!(" ({s} steps)"));
    match decision.get("decision").and_then(Value::as_str) {
        Some("granted") => format!(
            "decision: granted, ttl {} s{steps}\n  capabilities {}",
            decision.get("ttl").unwrap_or(&Value::Null),
            decision.get("capabilities").unwrap_or(&Value::Null),
        ),
        _ => format!(
            "decision: denied, {}{}{steps}: {}",
            decision
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("denied"),
            decision
                .get("rule")
                .and_then(Value::as_str)
                .map_or_else(String::new, |rule| format!(" by rule `{rule}`")),
            decision.get("reason").and_then(Value::as_str).unwrap_or(""),
        ),
    }
}

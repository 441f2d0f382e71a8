//! The command line: argument definitions and what each command runs.

mod audit;
mod delegate;
mod demo;
mod fail;
mod files;
mod issue;
mod keys;
mod policy;
mod revoke;
mod serve;
mod verify;

use std::io::Write;
use std::path::PathBuf;

use captoken_host::gateway::Database;
use captoken_host::{Runtime, RuntimeConfig};
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

pub(crate) use fail::CliError;

const EXAMPLES: &str = "\
Examples:
  # An issuer key and a holder key; stdout is the public key set, and the
  # holder hands only that to the issuer
  captoken keygen --out issuer.jwk > issuer.jwks
  captoken keygen --out agent.jwk > agent.jwks

  # A token letting the agent drive or stop robot 7 for five minutes
  captoken issue --key issuer.jwk --issuer https://issuer.example \\
      --sub agent:planner --aud robot-gateway --holder agent.jwks \\
      --cap drive,stop@robot:7 > token.jws

  # Check it as the gateway would (exit 1 and the reason if rejected)
  captoken verify --jwks issuer.jwks --issuer https://issuer.example \\
      --aud robot-gateway - < token.jws

  # The holder hands a narrower child token on to a helper
  captoken keygen --out helper.jwk > helper.jwks
  captoken delegate --parent \"$(cat token.jws)\" --key agent.jwk \\
      --jwks issuer.jwks --issuer https://issuer.example --aud robot-gateway \\
      --sub agent:helper --holder helper.jwks --cap stop@robot:7 --ttl 60

  # A gateway's store: revoke a token, check the audit log
  captoken revoke --db captoken-data/captoken.db <jti> --reason lost
  captoken audit verify --db captoken-data/captoken.db

  # What would the policy grant, rule by rule?
  captoken policy explain policy.json --request request.json

  # All of the above in memory, narrated
  captoken demo

Every command runs the embedded captoken WebAssembly module; `captoken info`
shows which one (its SHA-256).

Exit status: 0 ok, 1 the input was checked and refused (a token, key or
claims the module rejected, a tampered audit log, a denied policy request),
2 usage or file error, 3 the host or the module failed to run.
Errors print as `error: <code>: <message>` on stderr.";

/// Issue and verify capability tokens with the captoken WebAssembly module.
#[derive(Debug, Parser)]
#[command(name = "captoken", version, after_help = EXAMPLES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate an Ed25519 key pair: private JWK to a file, public JWKS to
    /// stdout; or rotate a gateway's signing key
    #[command(after_help = "Examples:
  captoken keygen --out issuer.jwk > issuer.jwks

  # Rotate the gateway's key; tokens the old key signed verify for a day
  captoken keygen --rotate --key-dir captoken-data/keys --retire-after 86400

With --rotate, the old key's public part moves to `retired.jwks` in the key
directory with `exp` = now + --retire-after (at least the longest token
lifetime your policy grants), and is served in the JWKS until then; its
private part is replaced by the new key. After a key compromise use
--retire-after 0: tokens the old key signed stop verifying. A running
gateway signs with the new key once told: `kill -HUP <its pid>` (or at its
next start).")]
    Keygen {
        /// File for the private JWK, created with mode 0600
        #[arg(long, value_name = "FILE", required_unless_present = "rotate")]
        out: Option<PathBuf>,
        /// Overwrite FILE if it exists
        #[arg(long, conflicts_with = "rotate")]
        force: bool,
        /// Replace the gateway's signing key in --key-dir, keeping the old
        /// one verifiable for --retire-after seconds
        #[arg(long, conflicts_with = "out")]
        rotate: bool,
        /// The gateway's key directory (with --rotate)
        #[arg(
            long,
            value_name = "DIR",
            default_value = "captoken-data/keys",
            requires = "rotate"
        )]
        key_dir: PathBuf,
        /// Seconds the retired key still verifies (with --rotate)
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 86_400,
            requires = "rotate"
        )]
        retire_after: u64,
    },
    /// Print the public JWKS of a private key file
    #[command(after_help = "Example:\n  captoken jwks --key issuer.jwk > issuer.jwks")]
    Jwks {
        /// A private JWK file, as written by `keygen`
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Issue a token binding capabilities to a holder's key
    #[command(after_help = "Example:
  captoken issue --key issuer.jwk --issuer https://issuer.example \\
      --sub agent:planner --aud robot-gateway --holder agent.jwks \\
      --cap drive,stop@robot:7 --cap read@telemetry:7 \\
      --constraints '{\"rooms\": [\"lab-2\"]}' --ttl 60")]
    Issue(IssueArgs),
    /// Verify a token; print its header and claims, or why it was rejected
    #[command(after_help = "Example:
  captoken verify --jwks issuer.jwks --issuer https://issuer.example \\
      --aud robot-gateway \"$(cat token.jws)\"")]
    Verify(VerifyArgs),
    /// Mint a narrower child of a token you hold, for someone else
    #[command(after_help = "Example:
  captoken delegate --parent \"$(cat token.jws)\" --key agent.jwk \\
      --jwks issuer.jwks --issuer https://issuer.example --aud robot-gateway \\
      --sub agent:helper --holder helper.jwks --cap stop@robot:7 --ttl 60 > child.jws

The child is signed with your key (the one the parent is bound to) and is
presented as the whole chain (`child~parent`). It may only narrow: every
capability covered by one of the parent's, expiring no later, at most three
delegations deep. A wider request is refused (exit 1,
`delegation_escalation`), not silently narrowed.")]
    Delegate(delegate::DelegateArgs),
    /// Revoke a token id in a gateway's store, durably and audited
    #[command(after_help = "Example:
  captoken revoke --db captoken-data/captoken.db QmFzZTY0dXJsT2ZBSnRpMTIz --reason \"key lost\"

Works on the database directly, beside a running gateway or without one:
the revocation is committed (and fsynced) with its audit record before
this command reports it, and the gateway refuses the token, and every
token delegated from it, at its next verify.

The id is the one verify reports: a recorded token's `jti`, a delegated
token's id (its chain's jtis joined by `.`), or a bare jti that exactly
one recorded delegated token has.

Exit status: 0 revoked (or already revoked), 1 no recorded token has that
id (`unknown_token`) or several have that jti (`ambiguous_id`, with their
ids), 2 not a token id or the database cannot be opened, 3 the module
failed.")]
    Revoke(revoke::RevokeArgs),
    /// Audit log commands
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Policy commands: check a policy file, explain a decision
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Walk through keygen, issue, verify and a rejection, in memory
    Demo,
    /// Print the embedded module's self-description and SHA-256
    Info,
    /// Run the HTTP gateway: issue, verify and revoke tokens over HTTP,
    /// with an embedded SQLite store (see docs/GATEWAY.md)
    #[command(
        after_help = "Example (creates ./captoken-data with a dev key and a sample policy):
  captoken serve
  captoken serve --listen 0.0.0.0:8080 --db /var/lib/captoken/captoken.db \\
      --key-dir /etc/captoken/keys --policy /etc/captoken/policy.json

SIGHUP re-reads the key directory and the policy file (after
`captoken keygen --rotate`, or a policy edit) without dropping a request;
if either is refused, nothing changes. SIGINT or SIGTERM stops it."
    )]
    Serve(serve::ServeArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every record of a gateway's audit hash chain
    #[command(after_help = "Example:
  captoken audit verify --db captoken-data/captoken.db
  captoken audit verify --db captoken-data/captoken.db --head <head printed last time> --json

Every record's hash is recomputed and every link checked, by the same
module that wrote them, in chunks, from seq 0 to the last record: any edit,
insertion, deletion or reordering is found, at the first record affected.

Exit status: 0 valid (or empty), 1 tampered (the code and seq on stderr:
audit_bad_hash, audit_broken_link, audit_bad_sequence, audit_bad_record,
audit_head_mismatch), 2 the database cannot be read, 3 the module failed.")]
    Verify(audit::AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// The issuer's private JWK file
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The `iss` claim; verifiers must expect the same string
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// The subject the token is about (`sub`)
    #[arg(long, value_name = "SUB")]
    sub: String,
    /// The audience that will accept the token (`aud`)
    #[arg(long, value_name = "AUD")]
    aud: String,
    /// The holder's JWK (file or inline JSON); the token is bound to it and
    /// only its public part is used
    #[arg(long, value_name = "JWK")]
    holder: String,
    /// A capability, `ACTION[,ACTION]@RESOURCE[,RESOURCE]`; repeatable
    #[arg(long = "cap", value_name = "CAP", required = true)]
    caps: Vec<String>,
    /// A JSON object of constraints, attached to every `--cap`
    #[arg(long, value_name = "JSON")]
    constraints: Option<String>,
    /// The plan this token was issued for (`plan_id`)
    #[arg(long, value_name = "ID")]
    plan_id: Option<String>,
    /// Lifetime in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    ttl: u64,
    /// Print the module's whole response (token, kid, jti, iat, exp)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The issuer's public JWKS file (a lone JWK also works)
    #[arg(long, value_name = "FILE")]
    jwks: PathBuf,
    /// The issuer the token must come from
    #[arg(long, value_name = "ISS")]
    issuer: String,
    /// The audience this verifier is (the token's `aud` must match)
    #[arg(long, value_name = "AUD")]
    aud: String,
    /// Clock skew to tolerate, in seconds
    #[arg(long, value_name = "SECONDS")]
    leeway: Option<u64>,
    /// The token, or `-` to read it from stdin
    #[arg(value_name = "TOKEN")]
    token: String,
}

/// Runs one command.
pub(crate) fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        // Dropping `d` from a JWK is plain JSON: no need to load the module.
        Command::Jwks { key } => keys::jwks_of_file(&key),
        Command::Keygen {
            out: Some(out),
            force,
            ..
        } => keys::keygen(&runtime()?, &out, force),
        Command::Keygen {
            key_dir,
            retire_after,
            ..
        } => keys::rotate(&runtime()?, &key_dir, retire_after),
        // These read and check their inputs before loading the module, so a
        // usage error never waits for the module to compile.
        Command::Issue(args) => issue::issue(&args),
        Command::Verify(args) => verify::verify(&args),
        Command::Demo => demo::demo(&runtime()?),
        Command::Info => info(&runtime()?),
        Command::Serve(args) => serve::serve(&args),
        Command::Delegate(args) => delegate::delegate(&args),
        Command::Revoke(args) => revoke::revoke(&args),
        Command::Audit(AuditCommand::Verify(args)) => audit::verify(&args),
        Command::Policy(command) => policy::run(&command),
    }
}

/// The module's info, with the SHA-256 that identifies it.
fn info(runtime: &Runtime) -> Result<(), CliError> {
    let mut info = runtime.info()?;
    if let Value::Object(members) = &mut info {
        members.insert(
            "module_sha256".to_owned(),
            Value::String(runtime.module_sha256().to_owned()),
        );
    }
    print_json(&info)
}

fn print_json(value: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::usage("io_error", format!("cannot format json: {err}")))?;
    print_line(&text)
}

/// The embedded module for a CLI command, precompiled from the user's
/// cache directory when one is there ([`RuntimeConfig::default_cache_dir`]):
/// each command is a new process, and compiling costs more than most
/// commands.
fn runtime() -> Result<Runtime, CliError> {
    let config = RuntimeConfig::default();
    let config = match RuntimeConfig::default_cache_dir() {
        Some(dir) => config.cache_dir(dir),
        None => config,
    };
    Ok(Runtime::embedded_with(config)?)
}

/// The environment variable read for the store when `--db` is not given.
const DATABASE_ENV: &str = "CAPTOKEN_DATABASE_URL";

/// The store a command uses: `--db`, else `CAPTOKEN_DATABASE_URL`, else
/// `default` (when the command has one). An unknown URL scheme is refused,
/// never taken as a file name.
fn database(arg: Option<&str>, default: Option<&str>) -> Result<Database, CliError> {
    let from_env = std::env::var(DATABASE_ENV)
        .ok()
        .filter(|url| !url.is_empty());
    let Some(text) = arg.or(from_env.as_deref()).or(default) else {
        return Err(CliError::usage(
            "missing_argument",
            format!("name the store with `--db` (a SQLite file or postgres://…) or {DATABASE_ENV}"),
        ));
    };
    Database::parse(text).map_err(|err| CliError::usage("store_bad_url", err.to_string()))
}

/// One line on stdout; unlike `println!`, a closed pipe is an error, not a panic.
fn print_line(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|err| CliError::usage("io_error", format!("cannot write to stdout: {err}")))
}

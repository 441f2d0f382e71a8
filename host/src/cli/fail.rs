//! How the CLI fails: one line on stderr and an exit code per kind of failure.

use captoken_host::HostError;

/// Exit code when the input was checked and refused: a token, a key or
/// claims the module rejected, a tampered audit log, a denied request.
const EXIT_REJECTED: u8 = 1;
/// Exit code for a usage or file error: the command line is at fault.
const EXIT_USAGE: u8 = 2;
/// Exit code when the host or the module failed to run at all.
const EXIT_HOST: u8 = 3;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line or a file it names is unusable.
    #[error("{message}")]
    Usage { code: &'static str, message: String },
    /// Like `Usage`, with a code from elsewhere (the store, the gateway).
    #[error("{message}")]
    Setup { code: String, message: String },
    /// A check ran and found a fault that is not the module's rejection of
    /// a request (an audit log that does not verify, a policy denial).
    #[error("{message}")]
    Rejected { code: String, message: String },
    /// Anything from the runtime, including the module's rejections.
    #[error(transparent)]
    Host(#[from] HostError),
}

impl CliError {
    pub(crate) fn usage(code: &'static str, message: impl Into<String>) -> Self {
        Self::Usage {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn setup(code: &str, message: impl Into<String>) -> Self {
        Self::Setup {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn rejected(code: &str, message: impl Into<String>) -> Self {
        Self::Rejected {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn code(&self) -> &str {
        match self {
            Self::Usage { code, .. } => code,
            Self::Setup { code, .. } | Self::Rejected { code, .. } => code,
            Self::Host(err) => err.code(),
        }
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage { .. } | Self::Setup { .. } => EXIT_USAGE,
            Self::Rejected { .. } => EXIT_REJECTED,
            Self::Host(err) if err.is_rejection() => EXIT_REJECTED,
            Self::Host(_) => EXIT_HOST,
        }
    }
}

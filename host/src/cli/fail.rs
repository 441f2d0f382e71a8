//! How the CLI fails: one line on stderr and an exit code per kind of failure.

use captoken_host::HostError;

/// Exit code when the module rejected the input (a token, a key, claims).
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

    pub(crate) fn code(&self) -> &str {
        match self {
            Self::Usage { code, .. } => code,
            Self::Host(err) => err.code(),
        }
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage { .. } => EXIT_USAGE,
            Self::Host(err) if err.is_rejection() => EXIT_REJECTED,
            Self::Host(_) => EXIT_HOST,
        }
    }
}

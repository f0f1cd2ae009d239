//! The command line (clap). Every subcommand reads one or more captures of any supported
//! format; the format is detected from the content.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Reads captured HTTP traffic and explains, with evidence, why requests were refused.";

const LONG_ABOUT: &str = "\
harken reads captured HTTP traffic (browser HAR exports, pcap/pcapng packet captures) and explains,
with evidence, why requests were refused: which credential was sent, what it could do at that
moment, which endpoint was really called, and what state the conversation was in.

Inputs are recognized by content, not by name. Several inputs are merged in time order, and
what is learned in one (a token issued, a conversation closed) applies to the others.

Secrets never appear in output: a credential is shown as its kind and a stable fingerprint
(e.g. jwt:3f2a9c01b7d4) unless --show-secrets is given.";

const AFTER_HELP: &str = "\
Examples:
  harken analyze samples/*.har                 why was each 401/403 refused?
  harken analyze --format json capture.har     the same, as one JSON document
  harken exchanges --status 4xx browser.har    every client error, one row each
  harken exchanges --format ndjson big.har     one JSON object per exchange, for jq
  harken tokens login.har api.pcap             every credential and what it could do
  harken timeline --conversation ID a.har      one conversation, state at every step

Exit codes: 0 ok, 1 findings when --fail-on asked for it, 2 an input could not be read
or the command line was wrong (other inputs are still reported).";

#[derive(Debug, Parser)]
#[command(name = "harken", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// When to colour tables: `auto` (only on a terminal, and not when NO_COLOR is set),
    /// `always` or `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain every 401 and 403: a cause, the evidence, and the fix.
    ///
    /// Prints a summary of the inputs (formats, exchanges, statuses, notes) and one finding per
    /// refused request. With --format json, one document (see docs/output.md).
    Analyze(AnalyzeArgs),
    /// List exchanges, one row per request/response, with filters.
    Exchanges(ExchangesArgs),
    /// List every credential: kind, grant, issuer, region, scopes, issue, expiry, uses.
    ///
    /// One row per credential found in requests (Authorization, API-key headers and query
    /// parameters, Sec-WebSocket-Protocol, session cookies) or issued in the traffic, with what
    /// the traffic taught about it: token-endpoint replies, implicit-grant redirects,
    /// GET /api/v2/tokens/me, introspection, revocations, web messaging JwtResponse frames.
    /// Every credential a request carried counts as a use; "401/403" counts the uses refused.
    /// Token times (exp, iat) are compared allowing for the server/capture clock skew, stated on
    /// the first line. Capture from before the login to include the token's issue (see
    /// docs/tokens.md). Values are shown as kind:fingerprint unless --show-secrets.
    Tokens(TokensArgs),
    /// Group exchanges by conversation and show each one's state at every step.
    ///
    /// Every exchange and notification that names a conversation (in its path, body or
    /// websocket topic) joins that conversation's timeline, across all inputs. The state
    /// (active, disconnected, terminated) changes only on evidence: a conversation GET reply,
    /// an accepted disconnect, a notification, a message accepted; before any evidence it is
    /// `unknown`. Each row shows the state the request met and the state after it; a request
    /// made after the conversation ended is marked. See docs/conversations.md.
    Timeline(TimelineArgs),
    /// Print a shell completion script.
    ///
    /// bash: `source <(harken completions bash)`, or save it under
    /// ~/.local/share/bash-completion/completions/harken. zsh: save it as `_harken` in a folder
    /// of your $fpath. fish: save it as ~/.config/fish/completions/harken.fish. PowerShell:
    /// `harken completions powershell | Out-String | Invoke-Expression`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `harken man | man -l -`, or save it as
    /// /usr/local/share/man/man1/harken.1.
    Man,
}

/// Output formats. Not every command offers every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables for a terminal.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Capture files: HAR, pcap or pcapng (detected from content). `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print credential values and secret URL parameters instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,

    /// An access-log format of your own (TOML: a regex with named groups, or JSON field
    /// paths, mapped to harken's fields), tried before the built-in log formats; see
    /// docs/formats.md, "Your own log format".
    #[arg(long, value_name = "FILE")]
    pub log_format: Option<PathBuf>,
}

/// The flags every analysing command shares (analyze, exchanges, tokens, timeline). Declared
/// once; turned into [`crate::settings::Settings`] before any work.
#[derive(Debug, Args, Default)]
pub struct AnalysisArgs {
    /// An API description (Swagger 2.0 or OpenAPI 3.x, JSON or YAML) that says what each
    /// operation requires; used instead of the built-in Genesys Cloud catalog.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// A conversation profile (TOML) for APIs other than Genesys Cloud: where conversation ids
    /// are (path templates, body fields, websocket topics) and what proves a state; see
    /// docs/conversations.md. `generic` and `genesys` name the built-in profiles (default:
    /// genesys).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// A JWK Set (JSON `{"keys":[...]}`, or one JWK) to verify JWT signatures with. Without it
    /// no signature is checked: claims are reported as the token states them.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,

    /// Report only what happened at or after this time (RFC 3339, or a date `2024-05-01`).
    /// Everything before still teaches (a token issued earlier, a conversation closed earlier).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Report only what happened before this time (RFC 3339, or a date).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Exit with status 1 when a finding has one of these statuses: a list such as 401,403, or
    /// `any`.
    #[arg(long, value_name = "STATUSES")]
    pub fail_on: Option<String>,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct ExchangesArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Keep only these statuses: exact codes and classes, e.g. `401,403` or `4xx,5xx`;
    /// `none` matches requests that got no response.
    #[arg(long, value_name = "LIST")]
    pub status: Option<String>,

    /// Keep only requests to this host (exact, case-insensitive; `*.example.com` for
    /// subdomains).
    #[arg(long)]
    pub host: Option<String>,

    /// Keep only these methods, e.g. `POST` or `GET,DELETE`.
    #[arg(long)]
    pub method: Option<String>,

    /// Keep only paths matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub path: Option<String>,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Show only this conversation (its id as shown, case-insensitive).
    #[arg(long, value_name = "ID")]
    pub conversation: Option<String>,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

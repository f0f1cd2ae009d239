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
  harken replay --only refused --token-env NEW --target https://api.example --send a.har
                                               do the refused requests pass now?
  harken serve a.har --listen 127.0.0.1:8080   answer with the captured responses
  harken tokens --since 2025-03-04 x.har       only what happened from that day on
  source <(harken completions bash)            tab completion (also zsh, fish, powershell)

Every analysing command takes --catalog, --profile, --jwks, --since/--until, --show-secrets
and --color; wrong values fail before any input is read. Captured text is escaped in every
format; `| head` ends quietly.

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
    /// refused request. With --format json, one document (see docs/output.md). Inputs of any
    /// size are streamed: what the diagnosis reads whole (refusals, token traffic) waits in a
    /// temporary file in $TMPDIR (point it at a disk, not a tmpfs, for gigabytes of logs).
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
    /// Write a HAR 1.2 that can be shared: every secret replaced by a keyed pseudonym.
    ///
    /// Reads any input format and writes one HAR 1.2. Credentials (Authorization, API-key
    /// headers, cookies), secret URL parameters and secrets in JSON bodies, forms and websocket
    /// frames become keyed pseudonyms (HMAC-SHA256 under --key): the same value gets the same
    /// pseudonym in every file and run with the same key, with the same length and character
    /// classes, so token lineage survives. JWTs keep their header and claims and get a new
    /// signature. Basic credentials keep the user. Ends with a self-scan of the written bytes for
    /// every original secret and prints what it replaced. `harken analyze` on the result gives
    /// the same findings. See docs/report.md.
    Sanitize(SanitizeArgs),
    /// Write a report for a support ticket: one HTML page or a Markdown document.
    ///
    /// In this order: the verdict in one paragraph (how many refusals, their causes, the fix for
    /// each); every finding grouped by cause and operation with its why, evidence exchanges
    /// (time, method, path, status, file#index) and fix; a timeline chart per conversation; a
    /// lifetime bar per credential; statistics; the capture's quality notes with the steps to
    /// capture again; what was read. The HTML is one self-contained file (inline CSS and SVG, no
    /// request of any kind, light and dark, prints well); the Markdown renders on GitHub, GitLab
    /// and Jira/Zendesk. Credentials appear as kind:fingerprint unless --show-secrets.
    /// See docs/report.md.
    Report(ReportArgs),
    /// Re-send captured requests (dry run unless --send) and compare the answers.
    ///
    /// Prints the plan (method, rewritten URL, headers with credentials masked, body size)
    /// and sends nothing unless --send. With --send, each answer is compared with the
    /// captured one (status, Content-Type and chosen headers, JSON body shape, time), and a
    /// summary says what now passes, still fails or changed. See docs/replay.md.
    Replay(Box<ReplayArgs>),
    /// Answer HTTP requests with the captured responses, in captured order.
    ///
    /// Matched by method, path and query; repeated calls are answered in captured order, so
    /// a client meets the customer's 401 at the same step. See docs/replay.md.
    Serve(ServeArgs),
    /// Counts, refusal rates (401, 403, 4xx, 5xx), latency percentiles and bytes, grouped.
    ///
    /// By default: refused requests by endpoint and credential, the view to start a 401/403
    /// storm with. --by picks the dimensions (endpoint, method, status, host, credential, kind,
    /// grant, client, identity, cause, conversation, input, time), --every adds time buckets.
    /// Endpoints are the catalog's operation templates, or paths with ids collapsed
    /// (`/users/{uuid}`). Latency comes from HAR timings, pcap request-to-response times and
    /// log duration fields; groups without any show `-` (null), never 0. --format parquet
    /// writes partial statistics that add up across machines (docs/fleet.md).
    Stats(StatsArgs),
    /// Write exchanges, findings, tokens and events as hive-partitioned Parquet (or CSV, NDJSON).
    ///
    /// DIR/<table>/date=YYYY-MM-DD/[host=H/]part-<id>.parquet, one file per run and partition:
    /// rerunning on the same inputs replaces its files, other shards add theirs beside them.
    /// Tokens carry fingerprints and claims, never secrets. Schema (versioned): docs/output.md.
    Export(ExportArgs),
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

#[derive(Debug, Args)]
pub struct SanitizeArgs {
    /// Capture files of any format harken reads (detected from content). `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Where to write the sanitized HAR (`-` for standard output).
    #[arg(long, short = 'o', value_name = "OUT.har")]
    pub output: PathBuf,

    /// The pseudonym key (any string). Without it a random key is made and printed once on
    /// standard error; give the same key to sanitize more captures with matching pseudonyms.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    /// Also replace personal data: e-mail addresses, E.164 phone numbers, person-name fields in
    /// bodies, and the JWT `sub` claim.
    #[arg(long)]
    pub pii: bool,
}

/// The formats of `harken report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// Markdown (GitHub, GitLab, Jira/Zendesk), no raw HTML.
    Markdown,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Where to write the report; the format follows the extension (.html/.htm, .md/.markdown).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The format, when it cannot be told from --output (or to write to standard output).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<ReportFormat>,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

// ---------------------------------------------------------------------------------------------
// replay and serve (src/cmd/replay.rs, src/cmd/serve.rs, docs/replay.md)

const REPLAY_AFTER_HELP: &str = "\
Safety: nothing is sent without --send (the dry run opens no socket). Only hosts named by
--target, --map or --allow-host are contacted, redirects included (each hop is checked; a
redirect elsewhere is reported, not followed). POST, PUT, PATCH and DELETE are skipped without
--allow-unsafe. Captured credentials (Authorization, cookies, API keys, secret query and body
fields) are stripped unless --use-captured-credentials; --token-env, --token-file or
--oauth-client-credentials supply a new one. See docs/replay.md.

Examples:
  harken replay capture.har --target http://127.0.0.1:8080            the plan, nothing sent
  harken replay capture.har --only refused --token-env NEW_TOKEN \\
      --target https://api.mypurecloud.ie --send                      is it fixed?
  harken replay capture.har --map api.mypurecloud.com=https://api.mypurecloud.ie \\
      --oauth-client-credentials --send    another region; login.* follows api.*";

/// `--only` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Only {
    /// The 401 and 403 responses (with --lead-up, also what led up to them).
    Refused,
}

/// Output formats of `replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    Table,
    Json,
    Ndjson,
}

#[derive(Debug, Args)]
#[command(after_help = REPLAY_AFTER_HELP)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Send every selected request to this base URL (scheme, host, port, optional path prefix).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// Send requests for HOST to URL (repeatable). Moving a Genesys Cloud host to another
    /// region moves its sibling hosts (login., webmessaging., api-cdn., apps.) with it.
    #[arg(long, value_name = "HOST=URL")]
    pub map: Vec<String>,

    /// Also allow connections to this host (or host:port), e.g. a redirect's destination.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub allow_host: Vec<String>,

    /// Really send. Without it harken prints the plan and sends nothing.
    #[arg(long)]
    pub send: bool,

    /// Allow POST, PUT, PATCH and DELETE (they change server state).
    #[arg(long)]
    pub allow_unsafe: bool,

    /// Send the credentials found in the capture (Authorization, cookies, API keys, secret
    /// query and body fields) instead of stripping them.
    #[arg(long, conflicts_with_all = ["token_env", "token_file", "oauth_client_credentials"])]
    pub use_captured_credentials: bool,

    /// Send `Authorization: Bearer $VAR` (or the value as is when it names a scheme) instead of
    /// the captured credential.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["token_file", "oauth_client_credentials"])]
    pub token_env: Option<String>,

    /// Like --token-env, with the token read from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "oauth_client_credentials")]
    pub token_file: Option<PathBuf>,

    /// Get a fresh token (client-credentials grant) from the token endpoint seen in the capture,
    /// with the client id and secret from --client-id-env / --client-secret-env.
    #[arg(long)]
    pub oauth_client_credentials: bool,

    /// Environment variable holding the OAuth client id.
    #[arg(long, value_name = "VAR", default_value = "HARKEN_CLIENT_ID")]
    pub client_id_env: String,

    /// Environment variable holding the OAuth client secret.
    #[arg(long, value_name = "VAR", default_value = "HARKEN_CLIENT_SECRET")]
    pub client_secret_env: String,

    /// Select: `refused` (the 401/403s).
    #[arg(long, value_enum)]
    pub only: Option<Only>,

    /// With --only refused: also replay the earlier requests that carried the same credential.
    #[arg(long, requires = "only")]
    pub lead_up: bool,

    /// Select these captured statuses: codes and classes, e.g. 401,403 or 4xx; `none`
    /// selects requests that got no response (the same list as `exchanges --status`).
    #[arg(long, value_name = "LIST")]
    pub status: Option<String>,

    /// Select paths matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub path: Option<String>,

    /// Select these methods, e.g. GET or GET,DELETE.
    #[arg(long)]
    pub method: Option<String>,

    /// Select requests started at or after this time (RFC 3339, or a date).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Select requests started before this time (RFC 3339, or a date).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Select entries: INPUT#INDEX, comma-separated or repeated. INPUT is a FILE argument (or
    /// its file name, or its 0-based position); INDEX the entry index shown by `exchanges`.
    #[arg(long, value_name = "INPUT#INDEX")]
    pub entry: Vec<String>,

    /// Replay at most N requests (the first N selected).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// At most this many requests per second: N/s, N/m, N/h.
    #[arg(long, value_name = "N/s")]
    pub rate: Option<String>,

    /// Requests in flight at once (1 keeps them strictly one after another).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// When each request starts: asap, original (the captured spacing), or a speed factor such
    /// as x2 (captured spacing, twice as fast) or x0.5.
    #[arg(long, value_name = "WHEN", default_value = "asap")]
    pub timing: String,

    /// Seconds to wait for each response.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,

    /// Compare this response header too (repeatable; Content-Type is always compared).
    #[arg(long, value_name = "NAME")]
    pub diff_header: Vec<String>,

    /// Exit with status 1 when any replayed response differs from the captured one (or fails).
    #[arg(long)]
    pub fail_on_diff: bool,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReplayFormat::Table)]
    pub format: ReplayFormat,
}

const SERVE_AFTER_HELP: &str = "\
Requests are matched by method, path and query (parameters in any order). A route answers its
captured responses in captured order and then repeats the last one, so a client run against
it meets the customer's 401 at the same step. Unmatched requests get a 404 whose JSON body
names the closest captured routes. One line is logged per request. Ctrl-C stops it.

Examples:
  harken serve capture.har --listen 127.0.0.1:8080
  curl -i http://127.0.0.1:8080/api/v2/users/me
  harken serve capture.har --listen 127.0.0.1:0 --latency original --ignore-param _";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Latency {
    /// Answer at once.
    None,
    /// Wait the captured response time before answering.
    Original,
}

#[derive(Debug, Args)]
#[command(after_help = SERVE_AFTER_HELP)]
pub struct ServeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Address to listen on (port 0 picks a free port; the bound address is printed first).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Leave this query parameter out of matching (repeatable), e.g. a cache-buster `_`.
    #[arg(long, value_name = "NAME")]
    pub ignore_param: Vec<String>,

    /// Do not serve this captured response header (repeatable), e.g. set-cookie.
    #[arg(long, value_name = "NAME")]
    pub ignore_header: Vec<String>,

    /// Also match the request body (JSON compared as values, other bodies as bytes).
    #[arg(long)]
    pub match_body: bool,

    /// `original` waits the captured response time before each answer.
    #[arg(long, value_enum, default_value_t = Latency::None)]
    pub latency: Latency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// Aligned table for a terminal (the first --top groups, 20 unless given).
    Table,
    /// One JSON document: the dimensions, every group, and the total.
    Json,
    /// One row per group with a header row.
    Csv,
    /// Mergeable partial statistics: one row per group and latency bucket (docs/fleet.md).
    Parquet,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,

    /// Group by these dimensions, comma-separated: endpoint, method, status, host, credential,
    /// kind, grant, client, identity, cause, conversation, input, time. `none` gives one total.
    /// grant, client, identity, cause and conversation need the full analysis (slower, and
    /// memory follows the capture).
    #[arg(long, value_name = "DIMS", default_value = "endpoint,credential")]
    pub by: String,

    /// Time buckets for the `time` dimension (added when not named in --by): 1m, 5m, 1h, 1d...
    #[arg(long, value_name = "PERIOD")]
    pub every: Option<String>,

    /// Show only the first N groups after sorting (0: all). Tables default to 20.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Order of groups: refused (401+403, the default), exchanges, rate, p50, p90, p99, max,
    /// bytes, or key (by the dimension values). Largest first.
    #[arg(long, value_name = "MEASURE", default_value = "refused")]
    pub sort: String,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet (zstd), typed columns.
    Parquet,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

/// Parquet when built with polars (the cargo feature `polars`), NDJSON otherwise.
#[cfg(feature = "polars")]
const DEFAULT_FORMAT: ExportFormat = ExportFormat::Parquet;
#[cfg(not(feature = "polars"))]
const DEFAULT_FORMAT: ExportFormat = ExportFormat::Ndjson;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Directory to write into (created if missing): DIR/<table>/date=YYYY-MM-DD/<file>.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,

    /// File format of the tables.
    #[arg(long, short = 'f', value_enum, default_value_t = DEFAULT_FORMAT)]
    pub format: ExportFormat,

    /// Also partition exchanges and findings by host: .../date=D/host=H/<file>.
    #[arg(long)]
    pub partition_host: bool,

    #[command(flatten)]
    pub shared: AnalysisArgs,
}

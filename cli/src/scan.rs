//! `atrest scan`: a live, read-only sweep of the account through the rules'
//! periodic paths, with the standard AWS configuration (profiles,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, SSO, assumed roles). Nothing is sent to
//! Config.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;

use atrest_common::aws::{retry_config, AwsContext};
use atrest_common::{AwsError, DryRun, Environment, Invocation, KeyDirectory, Trigger};
use aws_config::{BehaviorVersion, Region};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;

use crate::error::CliError;
use crate::inventory::{resource_types, Inventory};
use crate::output::{emit_report, InventoryArg, OutputArgs};
use crate::params_arg;
use crate::report::{exit_code, Finding, Report, RunError};

#[derive(clap::Args)]
pub struct Args {
    /// Only these rules (repeatable; all by default).
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// Regions to scan (repeatable; default: the configured region).
    #[arg(long = "region")]
    regions: Vec<String>,
    /// A rule parameter, RULE.NAME=VALUE (repeatable).
    #[arg(long = "param")]
    params: Vec<String>,
    /// How many rule sweeps (and role assumptions) run at once, over every account and region.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Every ACTIVE account of the organization (Organizations ListAccounts,
    /// from its management or delegated administrator account), each
    /// through the role --role-name.
    #[arg(long, conflicts_with = "accounts")]
    organization: bool,
    /// These accounts (12-digit ids, comma-separated or repeated), each
    /// through the role --role-name.
    #[arg(long, value_delimiter = ',')]
    accounts: Vec<String>,
    /// Accounts to leave out of --organization or --accounts.
    #[arg(long, value_delimiter = ',')]
    exclude_accounts: Vec<String>,
    /// The role assumed in each account (a name, or path/name). The caller's
    /// own account is scanned with the caller's credentials.
    #[arg(long, default_value = DEFAULT_ROLE)]
    role_name: String,
    /// The external id the role's trust policy asks for (sts:ExternalId).
    #[arg(long)]
    external_id: Option<String>,
    #[command(flatten)]
    inventory: InventoryArg,
    #[command(flatten)]
    output: OutputArgs,
}

/// The role Organizations creates in every account it creates.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";
/// The session name of the assumed roles (CloudTrail shows it).
const SESSION_NAME: &str = "atrest-scan";

/// One account to scan, with the configuration that reads it.
struct Target {
    account: String,
    sdk: aws_config::SdkConfig,
}

/// What one rule's sweep of one account and region found, or why it failed.
struct Swept {
    account: String,
    result: Result<Vec<Finding>, RunError>,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let (selected, notes) = params_arg::select(&args.rules, &args.params)?;
    args.inventory.check(&args.output)?;
    for id in args.accounts.iter().chain(&args.exclude_accounts) {
        check_account_id(id)?;
    }
    if !args.exclude_accounts.is_empty() && !args.organization && args.accounts.is_empty() {
        return Err(CliError::Usage(
            "--exclude-accounts needs --organization or --accounts".into(),
        ));
    }
    for note in notes {
        eprintln!("{note}");
    }
    let selected: Vec<params_arg::Selected> = selected
        .into_iter()
        .filter(|s| s.rule.spec().triggers.periodic)
        .collect();
    let rules: Vec<&'static dyn atrest_common::Rule> = selected.iter().map(|s| s.rule).collect();
    let params = Arc::new(selected);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let specs: Vec<_> = rules.iter().map(|r| r.spec()).collect();
    let (findings, inventory, errors, regions) = runtime.block_on(async {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .load()
            .await;
        let regions: Vec<String> = if args.regions.is_empty() {
            vec![base
                .region()
                .map(|r| r.to_string())
                .ok_or_else(|| CliError::Param("no region: set AWS_REGION or AWS_PROFILE, or pass --region".into()))?]
        } else {
            args.regions.clone()
        };
        let caller = aws_sdk_sts::Client::new(&base)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| CliError::Aws(AwsError::from_sdk("sts", "GetCallerIdentity", &e).to_string()))?;
        let own = caller.account().map(str::to_owned);
        let partition = caller
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or("aws")
            .to_owned();
        let accounts = if args.organization {
            Some(organization_accounts(&AwsContext::new(base.clone())).await?)
        } else if args.accounts.is_empty() {
            None
        } else {
            Some(args.accounts.clone())
        };
        let mut errors = Vec::new();
        let targets = match accounts {
            None => vec![(own.clone(), base.clone())],
            Some(mut accounts) => {
                accounts.retain(|a| !args.exclude_accounts.contains(a));
                accounts.sort();
                accounts.dedup();
                let role = RoleToAssume {
                    partition: &partition,
                    name: &args.role_name,
                    external_id: args.external_id.as_deref(),
                };
                let (targets, failed) = assume_roles(&base, own.as_deref(), accounts, &role, args.concurrency).await;
                errors.extend(failed);
                targets.into_iter().map(|t| (Some(t.account), t.sdk)).collect()
            }
        };

        let progress = progress_bar(targets.len() + errors.len());
        progress.inc(errors.len() as u64);
        let permits = Arc::new(Semaphore::new(usize::from(args.concurrency)));
        let mut tasks = tokio::task::JoinSet::new();
        let mut envs = Vec::with_capacity(regions.len() * targets.len());
        let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
        for (account, sdk) in &targets {
            let account_key = account.clone().unwrap_or_default();
            remaining.insert(account_key.clone(), regions.len() * rules.len());
            if rules.is_empty() {
                progress.inc(1);
            }
            for region in &regions {
                // One key directory per account and region, shared by every
                // rule, noting which resource uses which key for the inventory.
                let aws = AwsContext::new(sdk.to_builder().region(Region::new(region.clone())).build());
                let keys = KeyDirectory::kms(aws.kms()).noting_uses();
                let env = Arc::new(Environment { aws: Some(aws), keys });
                envs.push((account.clone(), region.clone(), env.clone()));
                for (i, rule) in rules.iter().copied().enumerate() {
                    let (env, params, permits) = (env.clone(), params.clone(), permits.clone());
                    let (region, account, account_key) = (region.clone(), account.clone(), account_key.clone());
                    tasks.spawn(async move {
                        let _permit = permits.acquire().await;
                        let params_arg::Selected { params, raw, .. } = &params[i];
                        let trigger = Trigger::Scheduled {
                            account_id: account.clone(),
                            notification_creation_time: aws_smithy_types::DateTime::from(std::time::SystemTime::now()),
                        };
                        let invocation = Invocation::local(trigger, account.clone(), raw.clone());
                        let mut sink = DryRun::default();
                        let result = atrest_common::run(rule, &invocation, params, &env, &mut sink).await;
                        let id = rule.spec().id;
                        Swept {
                            account: account_key,
                            result: result
                                .map(|_| {
                                    sink.evaluations
                                        .into_iter()
                                        .map(|e| Finding::new(id, e, account.clone(), Some(region.clone())))
                                        .collect()
                                })
                                .map_err(|source| RunError {
                                    account_id: account.clone(),
                                    region: Some(region.clone()),
                                    rule: Some(id.to_owned()),
                                    reason: source.to_string(),
                                }),
                        }
                    });
                }
            }
        }
        let mut findings = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let swept = done.map_err(|e| CliError::Aws(format!("a sweep stopped: {e}")))?;
            match swept.result {
                Ok(found) => findings.extend(found),
                Err(error) => errors.push(error),
            }
            if let Some(left) = remaining.get_mut(&swept.account) {
                *left -= 1;
                if *left == 0 {
                    progress.inc(1);
                }
            }
            progress.set_message(format!("accounts, {} resources judged", findings.len()));
        }
        progress.finish_and_clear();
        findings.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let mut inventory = Inventory::default();
        let types = resource_types(&specs);
        for (account, region, env) in &envs {
            let listed = match listed_keys(env).await {
                Ok(listed) => listed,
                Err(e) => {
                    errors.push(RunError {
                        account_id: account.clone(),
                        region: Some(region.clone()),
                        rule: None,
                        reason: format!("key inventory: {e}"),
                    });
                    continue;
                }
            };
            inventory.extend(Inventory::build(&env.keys, listed, types.clone(), Some(region)).await?);
        }
        errors.sort_by(|a, b| (&a.account_id, &a.region, &a.rule).cmp(&(&b.account_id, &b.region, &b.rule)));
        Ok::<_, CliError>((findings, inventory, errors, regions))
    })?;
    for e in &errors {
        eprintln!("atrest: {} not assessed: {}", e.place(), e.reason);
    }
    let report = Report::new(&findings, specs, "live scan".into())
        .with_inventory(&inventory)
        .with_errors(&errors)
        .with_regions(&regions);
    emit_report(&report, &args.output, args.inventory.inventory)?;
    Ok(exit_code(&report))
}

/// A progress bar of accounts (with the resources judged so far) on a
/// terminal; hidden otherwise.
fn progress_bar(accounts: usize) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(accounts as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar.set_message("accounts");
    bar
}

/// A 12-digit account id, or a usage error naming it.
fn check_account_id(id: &str) -> Result<(), CliError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(CliError::Usage(format!("`{id}` is not an AWS account id (12 digits)")))
    }
}

/// The ACTIVE accounts of the organization (ListAccounts, every page).
pub async fn organization_accounts(aws: &AwsContext) -> Result<Vec<String>, CliError> {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    let client = atrest_common::aws_client!(aws, aws_sdk_organizations);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| CliError::Aws(AwsError::from_sdk("organizations", "ListAccounts", &e).to_string()))?;
        for account in page.accounts() {
            // `State` replaces the deprecated `Status`; either says ACTIVE.
            let active = match account.state() {
                Some(state) => *state == AccountState::Active,
                None => account.status() == Some(&AccountStatus::Active),
            };
            if let (true, Some(id)) = (active, account.id()) {
                accounts.push(id.to_owned());
            }
        }
    }
    Ok(accounts)
}

/// The role assumed in each account.
struct RoleToAssume<'a> {
    partition: &'a str,
    name: &'a str,
    external_id: Option<&'a str>,
}

impl RoleToAssume<'_> {
    fn arn(&self, account: &str) -> String {
        format!("arn:{}:iam::{account}:role/{}", self.partition, self.name)
    }
}

/// Each account's configuration: the caller's own for its account, else
/// credentials from AssumeRole on the role, fetched now (at most
/// `concurrency` at once) so that an account whose role cannot be assumed
/// is an error of its own, not a failure of every sweep in it.
async fn assume_roles(
    base: &aws_config::SdkConfig,
    own: Option<&str>,
    accounts: Vec<String>,
    role: &RoleToAssume<'_>,
    concurrency: u16,
) -> (Vec<Target>, Vec<RunError>) {
    use aws_config::identity::IdentityCache;
    use aws_sdk_sts::config::{ProvideCredentials, SharedCredentialsProvider};
    use futures_util::stream::{self, StreamExt};
    let assumed = stream::iter(accounts)
        .map(|account| async move {
            if own == Some(account.as_str()) {
                return Ok(Target {
                    account,
                    sdk: base.clone(),
                });
            }
            let arn = role.arn(&account);
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(&arn)
                .session_name(SESSION_NAME)
                .configure(base);
            if let Some(id) = role.external_id {
                builder = builder.external_id(id);
            }
            let provider = builder.build().await;
            match provider.provide_credentials().await {
                Ok(first) => Ok(Target {
                    sdk: base
                        .to_builder()
                        .credentials_provider(SharedCredentialsProvider::new(Primed {
                            first: std::sync::Mutex::new(Some(first)),
                            provider,
                        }))
                        .identity_cache(IdentityCache::lazy().build())
                        .build(),
                    account,
                }),
                Err(e) => Err(RunError {
                    account_id: Some(account),
                    region: None,
                    rule: None,
                    reason: format!("cannot assume {arn}: {}", error_chain(&e)),
                }),
            }
        })
        .buffer_unordered(usize::from(concurrency))
        .collect::<Vec<_>>()
        .await;
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for a in assumed {
        match a {
            Ok(t) => targets.push(t),
            Err(e) => errors.push(e),
        }
    }
    (targets, errors)
}

/// An assumed role's credentials: the ones fetched to learn that the role
/// can be assumed, handed out first (the identity cache above keeps them
/// until they expire), then fresh ones from AssumeRole.
#[derive(Debug)]
struct Primed {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    provider: aws_config::sts::AssumeRoleProvider,
}

impl aws_credential_types::provider::ProvideCredentials for Primed {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().ok().and_then(|mut first| first.take());
        match first {
            Some(credentials) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(credentials)),
            None => self.provider.provide_credentials(),
        }
    }
}

/// An error with its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// The ARN of every key of the environment's region (ListKeys).
async fn listed_keys(env: &Environment) -> Result<Vec<String>, CliError> {
    let Some(aws) = &env.aws else {
        return Ok(Vec::new());
    };
    let mut pages = aws.kms().list_keys().into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CliError::Aws(AwsError::from_sdk("kms", "ListKeys", &e).to_string()))?;
        arns.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_arn().or(k.key_id()).map(str::to_owned)),
        );
    }
    Ok(arns)
}

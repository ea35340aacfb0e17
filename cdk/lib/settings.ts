// The app's settings, read from CDK context (cdk.json or `-c key=value`).
// Every setting is documented in cdk/README.md; a bad value is an error naming it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { aws_config as config } from 'aws-cdk-lib';
import { ManifestRule } from './manifest';

/** The path of the functions' roles: member accounts' execution roles trust `role/atrest/*` of the central account. */
export const ROLE_PATH = '/atrest/';

export type Architecture = 'arm64' | 'x86_64';
export type DeployAs = 'rules' | 'conformance-pack' | 'organization-conformance-pack' | 'functions';

/** Config's periodic frequencies (MaximumExecutionFrequency), as aws-cdk-lib models them. */
export type Frequency = `${config.MaximumExecutionFrequency}`;
export const FREQUENCIES: readonly Frequency[] = Object.values(config.MaximumExecutionFrequency);

export interface Settings {
  /** Lambda architecture; the packages are read from `<packageRoot>/<architecture>/<rule>/bootstrap.zip`. */
  readonly architecture: Architecture;
  readonly packageRoot: string;
  readonly manifestPath: string;
  /** Rule ids to deploy; all of the manifest when absent. */
  readonly rules?: string[];
  /** Prefix of every function and Config rule name. */
  readonly namePrefix: string;
  readonly scheduleFrequency: Frequency;
  /** Input parameters per rule id, as Config passes them (strings). */
  readonly parameters: Record<string, Record<string, string>>;
  readonly logRetentionDays: number;
  /** Create a customer-managed key (rotation on) for the functions' environment and log groups. */
  readonly encryptionKey: boolean;
  readonly deployAs: DeployAs;
  readonly conformancePackName: string;
  /** Accounts an organization conformance pack leaves out. */
  readonly excludedAccounts: string[];
  /**
   * Accounts besides this one whose AWS Config may invoke the functions (the
   * central-account pattern): the given ones, or, for an organization pack,
   * the organization's ACTIVE accounts less the excluded ones.
   */
  readonly invokerAccountIds: string[];
  /**
   * The role (name, or path/name) the functions assume in each evaluated
   * account when a rule assumes its execution role: every rule does in the
   * central-account pattern. The member-account template creates it.
   */
  readonly executionRoleName: string;
  /** An SNS topic the alarms notify (failed invocations, errors, throttles). */
  readonly alarmTopicArn?: string;
  /**
   * StackSet-ready synthesis (the functions in every account): the Lambda
   * packages are read from the buckets `<prefix>-<region>`, which the
   * organization can read, instead of each account's CDK bootstrap bucket,
   * and the template has no bootstrap version rule.
   */
  readonly stackSetAssets?: string;
  /**
   * Remediation through each rule's AWS-owned runbook: none (the default),
   * run by hand from the Config console, or automatic.
   */
  readonly remediation: RemediationMode;
  /** The customer-managed key ARN runbooks encrypt with (AWSConfigRemediation-EncryptSNSTopic). */
  readonly remediationKeyArn?: string;
  /**
   * KMS alerting: EventBridge rules for the critical KMS calls and KMS's
   * key events, to an SNS topic under a customer-managed key (`on`), or
   * none (the default).
   */
  readonly alerts: 'none' | 'on';
}

export type RemediationMode = 'none' | 'manual' | 'automatic';

export type Context = (key: string) => unknown;

const ACCOUNT_ID = /^\d{12}$/;

export function readSettings(context: Context, appDir: string): Settings {
  const str = (key: string, fallback: string): string => {
    const value = context(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || value === '') throw bad(key, value, 'a non-empty string');
    return value;
  };
  const list = (key: string): string[] => {
    const value = context(key);
    if (value === undefined) return [];
    // `-c key=a,b` arrives as a string, cdk.json gives a list.
    const items = typeof value === 'string' ? value.split(',') : value;
    if (!Array.isArray(items) || items.some((v) => typeof v !== 'string')) {
      throw bad(key, value, 'a list of strings');
    }
    return items.map((v: string) => v.trim()).filter((v: string) => v !== '');
  };
  const bool = (key: string): boolean => {
    const value = context(key);
    if (value === undefined) return false;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw bad(key, value, 'true or false');
  };

  const architecture = str('atrest:architecture', 'arm64');
  if (architecture !== 'arm64' && architecture !== 'x86_64') throw bad('atrest:architecture', architecture, 'arm64 or x86_64');
  const frequency = str('atrest:scheduleFrequency', 'TwentyFour_Hours');
  if (!(FREQUENCIES as readonly string[]).includes(frequency)) {
    throw bad('atrest:scheduleFrequency', frequency, FREQUENCIES.join(', '));
  }
  const deployAs = str('atrest:deployAs', 'rules');
  if (!['rules', 'conformance-pack', 'organization-conformance-pack', 'functions'].includes(deployAs)) {
    throw bad('atrest:deployAs', deployAs, 'rules, conformance-pack, organization-conformance-pack or functions');
  }
  const retention = Number(context('atrest:logRetentionDays') ?? 365);
  if (!LOG_RETENTION_DAYS.includes(retention)) {
    throw bad('atrest:logRetentionDays', context('atrest:logRetentionDays'), `one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  const excludedAccounts = list('atrest:excludedAccounts');
  const givenInvokers = list('atrest:invokerAccountIds');
  for (const [key, ids] of [['atrest:excludedAccounts', excludedAccounts], ['atrest:invokerAccountIds', givenInvokers]] as const) {
    const wrong = ids.find((id) => !ACCOUNT_ID.test(id));
    if (wrong !== undefined) throw bad(key, wrong, 'twelve-digit account ids');
  }
  if (context('atrest:executionRoleArns') !== undefined) {
    throw bad('atrest:executionRoleArns', context('atrest:executionRoleArns'), 'nothing: it became atrest:executionRoleName');
  }
  const executionRoleName = str('atrest:executionRoleName', 'atrest-execution');
  if (!ROLE_NAME.test(executionRoleName) || executionRoleName.split('/').pop()!.length > 64) {
    throw bad('atrest:executionRoleName', executionRoleName, 'an IAM role name, or path/name');
  }
  const alarmTopicArn = context('atrest:alarmTopicArn') === undefined ? undefined : str('atrest:alarmTopicArn', '');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(alarmTopicArn)) {
    throw bad('atrest:alarmTopicArn', alarmTopicArn, 'an SNS topic ARN');
  }
  const stackSetAssets = context('atrest:stackSetAssets') === undefined ? undefined : str('atrest:stackSetAssets', '');
  if (stackSetAssets !== undefined) {
    // A bucket name is at most 63 characters; `-<region>` takes up to 15.
    if (!/^[a-z0-9][a-z0-9.-]{1,46}$/.test(stackSetAssets)) {
      throw bad('atrest:stackSetAssets', stackSetAssets, 'a bucket name prefix (lower case, digits, dots and dashes; at most 47)');
    }
    if (deployAs !== 'functions' || givenInvokers.length > 0) {
      throw bad(
        'atrest:stackSetAssets',
        stackSetAssets,
        'to go with atrest:deployAs=functions and no atrest:invokerAccountIds (the functions in every account, deployed by a StackSet)',
      );
    }
  }
  const organizationFile = context('atrest:organizationAccounts') === undefined ? undefined : str('atrest:organizationAccounts', '');
  const organizationAccounts =
    organizationFile === undefined ? undefined : readOrganizationAccounts(path.resolve(process.cwd(), organizationFile));
  const invokerAccountIds = reconcileInvokers(deployAs, givenInvokers, excludedAccounts, organizationAccounts);
  const rules = context('atrest:rules') === undefined ? undefined : list('atrest:rules');
  const remediation = str('atrest:remediation', 'none');
  if (!['none', 'manual', 'automatic'].includes(remediation)) {
    throw bad('atrest:remediation', remediation, 'none, manual or automatic');
  }
  const alerts = str('atrest:alerts', 'none');
  if (alerts !== 'none' && alerts !== 'on') throw bad('atrest:alerts', alerts, 'none or on');
  const remediationKeyArn = context('atrest:remediationKeyArn') === undefined ? undefined : str('atrest:remediationKeyArn', '');
  if (remediationKeyArn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/.test(remediationKeyArn)) {
    throw bad('atrest:remediationKeyArn', remediationKeyArn, 'a KMS key ARN');
  }

  return {
    architecture,
    packageRoot: path.resolve(appDir, str('atrest:packageRoot', '../target/lambda')),
    manifestPath: path.resolve(appDir, str('atrest:manifest', '../rules/manifest.json')),
    rules,
    namePrefix: str('atrest:namePrefix', 'atrest-'),
    scheduleFrequency: frequency as Frequency,
    parameters: readParameters(context('atrest:parameters')),
    logRetentionDays: retention,
    encryptionKey: bool('atrest:encryptionKey'),
    deployAs: deployAs as DeployAs,
    conformancePackName: str('atrest:conformancePackName', 'atrest'),
    excludedAccounts,
    invokerAccountIds,
    executionRoleName,
    alarmTopicArn,
    stackSetAssets,
    remediation: remediation as RemediationMode,
    remediationKeyArn,
    alerts,
  };
}

/** An IAM role name with an optional path (`path/name`), IAM's characters. */
const ROLE_NAME = /^[\w+=,.@-]+(\/[\w+=,.@-]+)*$/;

/**
 * The ACTIVE accounts of the organization, from the JSON `aws organizations
 * list-accounts --output json` prints (every page: the CLI follows them).
 */
export function readOrganizationAccounts(file: string): string[] {
  let parsed: any;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad('atrest:organizationAccounts', file, `the output of \`aws organizations list-accounts --output json\` (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed?.Accounts) || parsed.Accounts.length === 0) {
    throw bad('atrest:organizationAccounts', file, 'a file with a non-empty "Accounts" list (aws organizations list-accounts --output json)');
  }
  const active: string[] = [];
  for (const account of parsed.Accounts) {
    if (typeof account?.Id !== 'string' || !ACCOUNT_ID.test(account.Id)) {
      throw bad('atrest:organizationAccounts', account?.Id, `twelve-digit account ids in ${file}`);
    }
    // `State` replaces the deprecated `Status`; either says ACTIVE.
    if ((account.State ?? account.Status) === 'ACTIVE') active.push(account.Id);
  }
  return active;
}

/**
 * The accounts whose AWS Config may invoke the functions. An organization
 * pack runs in every account it does not exclude, and Config refuses to
 * create a rule whose function it may not invoke: so its invokers are the
 * organization's ACTIVE accounts less the excluded ones, derived from
 * `atrest:organizationAccounts`, never a hand-kept list that misses one.
 */
export function reconcileInvokers(
  deployAs: string,
  given: string[],
  excluded: string[],
  organization: string[] | undefined,
): string[] {
  if (deployAs !== 'organization-conformance-pack') {
    if (organization !== undefined || excluded.length > 0) {
      throw new Error(
        'atrest: atrest:organizationAccounts and atrest:excludedAccounts apply only to atrest:deployAs=organization-conformance-pack',
      );
    }
    return [...new Set(given)];
  }
  if (organization === undefined) {
    throw new Error(
      'atrest: an organization conformance pack runs in every account of the organization, and AWS Config must be allowed to ' +
        'invoke the functions from each: save `aws organizations list-accounts --output json > accounts.json` and set ' +
        'context atrest:organizationAccounts=accounts.json (the functions then assume atrest:executionRoleName in each account)',
    );
  }
  if (given.length > 0) {
    throw new Error(
      'atrest: with an organization conformance pack the invokers are the accounts of atrest:organizationAccounts less ' +
        'atrest:excludedAccounts: drop atrest:invokerAccountIds',
    );
  }
  const unknown = excluded.filter((id) => !organization.includes(id));
  if (unknown.length > 0) {
    throw bad('atrest:excludedAccounts', unknown.join(','), 'ACTIVE accounts of atrest:organizationAccounts');
  }
  const invokers = organization.filter((id) => !excluded.includes(id));
  if (invokers.length === 0) {
    throw bad('atrest:excludedAccounts', excluded.join(','), 'to leave at least one account of the organization in');
  }
  return [...new Set(invokers)];
}

/** CloudWatch Logs' allowed retention periods, in days. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function readParameters(value: unknown): Record<string, Record<string, string>> {
  if (value === undefined) return {};
  const parsed = typeof value === 'string' ? parseJson(value) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad('atrest:parameters', value, 'an object {"<rule-id>": {"<parameter>": "<value>"}}');
  }
  const out: Record<string, Record<string, string>> = {};
  for (const [rule, params] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw bad(`atrest:parameters.${rule}`, params, 'an object of parameter values');
    }
    out[rule] = {};
    for (const [name, v] of Object.entries(params as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw bad(`atrest:parameters.${rule}.${name}`, v, 'a string, number or boolean');
      }
      out[rule][name] = String(v);
    }
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad('atrest:parameters', text, 'JSON');
  }
}

function bad(key: string, value: unknown, expected: string): Error {
  return new Error(`atrest: context ${key} is ${JSON.stringify(value)}: expected ${expected}`);
}

/**
 * The rules to deploy with their input parameters: unknown rules or parameters,
 * missing required ones and values of the wrong type are errors naming them.
 */
export function selectRules(
  manifest: ManifestRule[],
  settings: Settings,
): Array<{ rule: ManifestRule; inputParameters: Record<string, string> }> {
  const byId = new Map(manifest.map((r) => [r.id, r]));
  for (const id of [...(settings.rules ?? []), ...Object.keys(settings.parameters)]) {
    if (!byId.has(id)) throw new Error(`atrest: unknown rule ${JSON.stringify(id)} in context (known: ${[...byId.keys()].join(', ')})`);
  }
  const chosen = settings.rules === undefined ? manifest : manifest.filter((r) => settings.rules!.includes(r.id));
  return chosen.map((rule) => ({ rule, inputParameters: executionRole(rule, settings, settings.parameters[rule.id] ?? {}) }));
}

/**
 * A rule's parameters with its execution role settled. In the central-account
 * pattern (other accounts invoke the functions) every rule assumes the role
 * `atrest:executionRoleName` in the account it evaluates: without it, a rule
 * would read the central account and report that under the member's result
 * token. The role name is the app's setting, so the functions' policies can
 * name it: a rule's own `executionRoleName` is refused.
 */
function executionRole(rule: ManifestRule, settings: Settings, given: Record<string, string>): Record<string, string> {
  const params = inputParameters(rule, given);
  if ('executionRoleName' in params) {
    throw new Error(`atrest: parameter ${rule.id}.executionRoleName: set context atrest:executionRoleName instead (one name for every rule)`);
  }
  const assumes = (params.assumeExecutionRole ?? '').toLowerCase();
  if (settings.invokerAccountIds.length > 0) {
    if (assumes === 'false') {
      throw new Error(
        `atrest: parameter ${rule.id}.assumeExecutionRole is false, but other accounts invoke the functions ` +
          `(atrest:invokerAccountIds or an organization pack): each rule must work in the account it evaluates`,
      );
    }
    return { ...params, assumeExecutionRole: 'true', executionRoleName: settings.executionRoleName };
  }
  return assumes === 'true' ? { ...params, executionRoleName: settings.executionRoleName } : params;
}

export function inputParameters(rule: ManifestRule, given: Record<string, string>): Record<string, string> {
  const known = new Map(rule.parameters.map((p) => [p.name, p]));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const spec = known.get(name);
    if (spec === undefined) {
      throw new Error(`atrest: rule ${rule.id} has no parameter ${JSON.stringify(name)} (it has: ${[...known.keys()].join(', ')})`);
    }
    const v = value.trim();
    if (spec.type === 'boolean' && !/^(true|false)$/i.test(v)) {
      throw new Error(`atrest: parameter ${rule.id}.${name} is ${JSON.stringify(value)}: expected true or false`);
    }
    if (spec.type === 'integer' && !/^\d+$/.test(v)) {
      throw new Error(`atrest: parameter ${rule.id}.${name} is ${JSON.stringify(value)}: expected a whole number`);
    }
    out[name] = v;
  }
  for (const p of rule.parameters) {
    if (p.required && (out[p.name] ?? '') === '') {
      throw new Error(
        `atrest: rule ${rule.id} needs parameter ${p.name} (${p.description}): set it in context atrest:parameters, ` +
          `or leave the rule out with atrest:rules`,
      );
    }
  }
  return out;
}

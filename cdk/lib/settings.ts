// The app's settings, read from CDK context (cdk.json or `-c key=value`).
// Every setting is documented in cdk/README.md; a bad value is an error naming it.
import * as path from 'node:path';
import { aws_config as config } from 'aws-cdk-lib';
import { ManifestRule } from './manifest';

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
  /** Accounts besides this one whose AWS Config may invoke the functions (one central account). */
  readonly invokerAccountIds: string[];
  /** Roles the functions may assume when a rule's assumeExecutionRole is true. */
  readonly executionRoleArns: string[];
}

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
  const invokerAccountIds = list('atrest:invokerAccountIds');
  for (const [key, ids] of [['atrest:excludedAccounts', excludedAccounts], ['atrest:invokerAccountIds', invokerAccountIds]] as const) {
    const wrong = ids.find((id) => !ACCOUNT_ID.test(id));
    if (wrong !== undefined) throw bad(key, wrong, 'twelve-digit account ids');
  }
  const executionRoleArns = list('atrest:executionRoleArns');
  const wrongRole = executionRoleArns.find((arn) => !/^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/.+$/.test(arn));
  if (wrongRole !== undefined) throw bad('atrest:executionRoleArns', wrongRole, 'IAM role ARNs');
  const rules = context('atrest:rules') === undefined ? undefined : list('atrest:rules');

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
    executionRoleArns,
  };
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
  return chosen.map((rule) => ({ rule, inputParameters: inputParameters(rule, settings.parameters[rule.id] ?? {}) }));
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

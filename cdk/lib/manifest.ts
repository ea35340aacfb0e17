// The rule manifest (rules/manifest.json, written by `atrest rules --json`):
// the only thing this app knows about the rules.
import * as fs from 'node:fs';
import { Aws, aws_iam as iam } from 'aws-cdk-lib';

export interface ManifestParameter {
  readonly name: string;
  readonly type: 'boolean' | 'integer' | 'list' | 'kms-key-list' | 'regex' | 'role-name' | 'region';
  readonly default: string | null;
  readonly required: boolean;
  readonly description: string;
}

export interface ManifestRule {
  readonly id: string;
  readonly description: string;
  readonly resourceTypes: string[];
  /** The recorded resource types: the Config rule's scope. */
  readonly scope: string[];
  readonly triggers: Array<'change' | 'periodic'>;
  readonly parameters: ManifestParameter[];
  readonly iamActions: string[];
  /** Per IAM action, the resources it can be scoped to (ARN patterns with ${AWS::...} placeholders, or "*"). */
  readonly iamResources: Record<string, string[]>;
  readonly pciDss: Record<string, string[]>;
  readonly timeoutSeconds: number;
  /** The function's memory, in MB (from the rule's spec). */
  readonly memoryMb: number;
  /** The AWS-owned runbook that fixes a NON_COMPLIANT resource, if any. */
  readonly remediation: ManifestRemediation | null;
}

/** Where a runbook parameter's value comes from. */
export type RunbookValue = 'automation-role' | 'resource-id' | 'key-arn';

export interface ManifestRemediation {
  readonly runbook: string;
  /** The automation role's name (under the path /atrest/). */
  readonly roleName: string;
  readonly parameters: Record<string, RunbookValue>;
  /** The role's statements: actions on resources (ARN patterns with ${AWS::...} placeholders). */
  readonly permissions: Array<{ readonly actions: string[]; readonly resources: string[] }>;
  readonly note: string;
}

/** Reads and checks the manifest; a malformed one is an error naming the file and the field. */
export function loadManifest(path: string): ManifestRule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`atrest: cannot read the rule manifest ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error(`atrest: the rule manifest ${path} is not a non-empty list of rules`);
  }
  return parsed.map((rule, i) => checkRule(rule, `${path}[${i}]`));
}

function checkRule(rule: any, where: string): ManifestRule {
  const fail = (field: string) => {
    throw new Error(`atrest: the rule manifest entry ${where} has no valid "${field}"`);
  };
  if (typeof rule?.id !== 'string' || !/^[a-z0-9-]+$/.test(rule.id)) fail('id');
  if (typeof rule.description !== 'string') fail('description');
  if (!isStringList(rule.resourceTypes) || rule.resourceTypes.length === 0) fail('resourceTypes');
  if (!isStringList(rule.triggers) || rule.triggers.some((t: string) => t !== 'change' && t !== 'periodic')) {
    fail('triggers');
  }
  if (!Array.isArray(rule.parameters) || rule.parameters.some((p: any) => typeof p?.name !== 'string')) {
    fail('parameters');
  }
  if (!isStringList(rule.scope) || rule.scope.some((t: string) => !rule.resourceTypes.includes(t))) fail('scope');
  if (!isStringList(rule.iamActions) || rule.iamActions.some((a: string) => !/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(a))) {
    fail('iamActions');
  }
  if (
    typeof rule.iamResources !== 'object' ||
    rule.iamResources === null ||
    rule.iamActions.some((a: string) => !isStringList(rule.iamResources[a]) || rule.iamResources[a].length === 0)
  ) {
    fail('iamResources');
  }
  if (!Number.isInteger(rule.timeoutSeconds) || rule.timeoutSeconds < 1 || rule.timeoutSeconds > 900) {
    fail('timeoutSeconds');
  }
  if (!Number.isInteger(rule.memoryMb) || rule.memoryMb < 128 || rule.memoryMb > 10240) fail('memoryMb');
  if (rule.remediation !== null && !isRemediation(rule.remediation)) fail('remediation');
  return rule as ManifestRule;
}

function isRemediation(r: any): boolean {
  return (
    typeof r?.runbook === 'string' &&
    /^AWSConfigRemediation-[A-Za-z0-9]+$/.test(r.runbook) &&
    typeof r.roleName === 'string' &&
    /^[\w+=,.@-]{1,64}$/.test(r.roleName) &&
    typeof r.parameters === 'object' &&
    r.parameters !== null &&
    Object.values(r.parameters).every((v) => v === 'automation-role' || v === 'resource-id' || v === 'key-arn') &&
    Array.isArray(r.permissions) &&
    r.permissions.every((p: any) => isStringList(p?.actions) && isStringList(p?.resources)) &&
    typeof r.note === 'string'
  );
}

/** An ARN pattern of the manifest with its placeholders filled in. */
export function fillPlaceholders(arn: string, p: string = Aws.PARTITION, r: string = Aws.REGION, a: string = Aws.ACCOUNT_ID): string {
  return arn.split('${AWS::Partition}').join(p).split('${AWS::Region}').join(r).split('${AWS::AccountId}').join(a);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The scope of a change-triggered rule: the recorded resource types it judges (from the registry). */
export function recordedScope(rule: ManifestRule): string[] {
  return rule.scope;
}

/** Whether Config should call the rule on configuration changes (it has a recorded type to watch). */
export function isChangeTriggered(rule: ManifestRule): boolean {
  return rule.triggers.includes('change') && recordedScope(rule).length > 0;
}

export function isPeriodic(rule: ManifestRule): boolean {
  return rule.triggers.includes('periodic');
}

/**
 * The resources an IAM action of `rule` can be scoped to, from the
 * manifest (the registry's table of the Service Authorization Reference),
 * with its placeholders filled in.
 */
export function actionResources(
  rule: ManifestRule,
  action: string,
  p: string = Aws.PARTITION,
  r: string = Aws.REGION,
  a: string = Aws.ACCOUNT_ID,
): string[] {
  return rule.iamResources[action].map((arn) => fillPlaceholders(arn, p, r, a));
}

/**
 * The policy statements allowing exactly the IAM actions of `rules`, one per
 * set of resources (the actions of several rules merged).
 */
export function actionStatements(rules: ManifestRule[]): iam.PolicyStatement[] {
  const byResources = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const action of rule.iamActions) {
      const k = JSON.stringify(actionResources(rule, action));
      byResources.set(k, (byResources.get(k) ?? new Set()).add(action));
    }
  }
  return [...byResources.entries()].map(
    ([resources, actions]) => new iam.PolicyStatement({ actions: [...actions], resources: JSON.parse(resources) }),
  );
}

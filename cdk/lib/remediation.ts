// The automation roles of the rules' AWS-owned remediation runbooks
// (atrest:remediation): one role per runbook, named as the manifest says
// (`atrest-remediation-<runbook>`, under /atrest/, where `atrest pack
// --remediation` points), assumable only by Systems Manager Automation
// acting for this account, allowed exactly the runbook's documented
// permissions.
import { Aws, Validations, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RemediationDeployment, logicalId } from './config-rule';
import { ManifestRule, fillPlaceholders } from './manifest';
import { ROLE_PATH, Settings } from './settings';

/** The automation roles' ARN prefix: each account's own roles (also inside an organization pack). */
export const REMEDIATION_ROLE_PREFIX = `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role${ROLE_PATH}`;

/** Why a runbook's role holds a wildcard resource. */
const WILDCARD_REASON =
  'the runbook acts on the resource AWS Config found NON_COMPLIANT, known only when it runs; ssm:StartAutomationExecution and ssm:GetAutomationExecution as the runbook documentation requires';

/** How the app remediates, or undefined for atrest:remediation=none. */
export function remediationDeployment(settings: Settings): RemediationDeployment | undefined {
  if (settings.remediation === 'none') return undefined;
  return { mode: settings.remediation, rolePrefix: REMEDIATION_ROLE_PREFIX, keyArn: settings.remediationKeyArn };
}

/** The rules whose runbook this deployment can run (a runbook needing a key needs atrest:remediationKeyArn). */
export function remediableRules(rules: ManifestRule[], r: RemediationDeployment | undefined): ManifestRule[] {
  if (r === undefined) return [];
  return rules.filter(
    (rule) =>
      rule.remediation !== null &&
      (r.keyArn !== undefined || !Object.values(rule.remediation.parameters).includes('key-arn')),
  );
}

/** One automation role per runbook of `rules`. */
export class RemediationRoles extends Construct {
  readonly roles = new Map<string, iam.Role>();

  constructor(scope: Construct, id: string, rules: ManifestRule[]) {
    super(scope, id);
    for (const rule of rules) {
      const runbook = rule.remediation;
      if (runbook === null || this.roles.has(runbook.roleName)) continue;
      const role = new iam.Role(this, logicalId(rule.id), {
        roleName: runbook.roleName,
        path: ROLE_PATH,
        description: `Runs ${runbook.runbook} for the atrest rule ${rule.id} (AWS Config remediation)`,
        // Only Automation acting for this account (no confused deputy).
        assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com').withConditions({
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:ssm:*:${Aws.ACCOUNT_ID}:automation-execution/*` },
        }),
      });
      const policy = new iam.ManagedPolicy(this, `${logicalId(rule.id)}Policy`, {
        description: `Exactly the permissions ${runbook.runbook} documents (rules/manifest.json)`,
        statements: runbook.permissions.map(
          (p) => new iam.PolicyStatement({ actions: p.actions, resources: p.resources.map((r) => fillPlaceholders(r)) }),
        ),
      });
      policy.attachToRole(role);
      for (const resource of new Set(runbook.permissions.flatMap((p) => p.resources).filter((r) => r.includes('*')))) {
        const shown = resource.replace(/\$\{(AWS::[A-Za-z]+)\}/g, '<$1>');
        Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${shown}]`, reason: WILDCARD_REASON });
      }
      this.roles.set(runbook.roleName, role);
    }
  }
}

// ExecutionRoleStack: the member-account template of the central-account
// pattern. It creates, in each member account, the role the central
// functions assume (atrest:executionRoleName): trusted only by roles under
// the functions' path in the central account, allowed exactly the deployed
// rules' IAM actions (the manifest's iamActions, PutEvaluations among them),
// scoped as the functions' own roles are. No assets and no bootstrap rule:
// the synthesised template deploys as a StackSet to accounts CDK never
// bootstrapped.
import {
  Aws,
  CfnOutput,
  CfnParameter,
  CliCredentialsStackSynthesizer,
  Stack,
  StackProps,
  aws_iam as iam,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ManifestRule, actionStatements } from './manifest';
import { RemediationRoles } from './remediation';
import { ROLE_PATH } from './settings';
import { acknowledgeWildcards } from './wildcards';

export interface ExecutionRoleStackProps extends StackProps {
  readonly rules: ManifestRule[];
  /** The role's name, or path/name. */
  readonly roleName: string;
  /** The rules whose remediation runbooks run in the member accounts (their automation roles). */
  readonly remediable?: ManifestRule[];
}

/** A role name with an optional path, as IAM takes them apart. */
export function splitRoleName(roleName: string): { path: string; name: string } {
  const parts = roleName.split('/');
  const name = parts.pop()!;
  return { path: parts.length === 0 ? '/' : `/${parts.join('/')}/`, name };
}

export class ExecutionRoleStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ExecutionRoleStackProps) {
    super(scope, id, { ...props, synthesizer: new CliCredentialsStackSynthesizer() });
    const central = new CfnParameter(this, 'CentralAccountId', {
      type: 'String',
      allowedPattern: '^\\d{12}$',
      description: 'The account whose atrest functions evaluate this one (their roles are under path /atrest/)',
    });
    const { path, name } = splitRoleName(props.roleName);
    this.role = new iam.Role(this, 'ExecutionRole', {
      roleName: name,
      path,
      description: 'Assumed by the central atrest rule functions: read-only calls of the rules and config:PutEvaluations',
      assumedBy: new iam.AccountPrincipal(central.valueAsString).withConditions({
        ArnLike: { 'aws:PrincipalArn': `arn:${Aws.PARTITION}:iam::${central.valueAsString}:role${ROLE_PATH}*` },
      }),
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Exactly the IAM actions of the deployed atrest rules (rules/manifest.json, iamActions)',
      statements: actionStatements(props.rules),
    });
    // Attached from the policy's side (`Roles`): the same on AWS, and the
    // form moto's CloudFormation models (tests/deploy_on_moto.py).
    policy.attachToRole(this.role);

    acknowledgeWildcards(policy, props.rules);
    new RemediationRoles(this, 'Remediation', props.remediable ?? []);
    new CfnOutput(this, 'ExecutionRoleArn', { value: this.role.roleArn, description: 'The role the central atrest functions assume here' });
  }
}

// RulesPackStack: per manifest rule one Lambda function (provided.al2023),
// its own least-privilege role and log group, the permission for AWS Config
// to invoke it, and its Config rule (standalone, or inside a conformance pack
// for the account or the organization).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Aws,
  CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  StackProps,
  Validations,
  aws_config as config,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  CfnOutput,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RuleDeployment, configRuleProperties, conformancePackTemplate, logicalId } from './config-rule';
import { ManifestRule } from './manifest';
import { Settings, selectRules } from './settings';

export interface RulesPackStackProps extends StackProps {
  readonly manifest: ManifestRule[];
  readonly settings: Settings;
}

/**
 * The resources an IAM action of `rule` can be scoped to, from the
 * manifest (the registry's table of the Service Authorization Reference),
 * with its placeholders filled in.
 */
function actionResources(
  rule: ManifestRule,
  action: string,
  p: string = Aws.PARTITION,
  r: string = Aws.REGION,
  a: string = Aws.ACCOUNT_ID,
): string[] {
  return rule.iamResources[action].map((arn) =>
    arn.split('${AWS::Partition}').join(p).split('${AWS::Region}').join(r).split('${AWS::AccountId}').join(a),
  );
}

/** Whether a rule's parameters make it assume the event's execution role. */
function assumesRole(inputParameters: Record<string, string>): boolean {
  return (inputParameters.assumeExecutionRole ?? '').toLowerCase() === 'true';
}

export class RulesPackStack extends Stack {
  /** The functions by rule id. */
  readonly functions = new Map<string, lambda.Function>();

  constructor(scope: Construct, id: string, props: RulesPackStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const selected = selectRules(props.manifest, settings);
    const packageDir = path.join(settings.packageRoot, settings.architecture);
    const key = settings.encryptionKey ? this.encryptionKey() : undefined;
    const deployments: RuleDeployment[] = [];
    const permissions: CfnResource[] = [];

    for (const { rule, inputParameters } of selected) {
      const zip = path.join(packageDir, rule.id, 'bootstrap.zip');
      if (!fs.existsSync(zip)) {
        throw new Error(
          `atrest: no package for rule ${rule.id} at ${zip}: run \`make package ARCH=${settings.architecture}\` first`,
        );
      }
      const name = `${settings.namePrefix}${rule.id}`;
      const scope = new Construct(this, logicalId(rule.id));
      const logGroup = new logs.LogGroup(scope, 'Logs', {
        logGroupName: `/aws/lambda/${name}`,
        retention: settings.logRetentionDays as logs.RetentionDays,
        encryptionKey: key,
        // Evaluation logs are audit evidence: kept when the stack goes.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Runs the atrest rule ${rule.id}: the rule's read-only calls, PutEvaluations and its own logs`,
      });
      const policy = new iam.ManagedPolicy(scope, 'Policy', {
        description: `Exactly what the atrest rule ${rule.id} calls (rules/manifest.json)`,
        statements: this.ruleStatements(rule, logGroup, settings, inputParameters),
      });
      role.addManagedPolicy(policy);
      const fn = new lambda.Function(scope, 'Function', {
        functionName: name,
        description: rule.description.slice(0, 256),
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: settings.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(zip),
        memorySize: 128,
        timeout: Duration.seconds(rule.timeoutSeconds),
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
        systemLogLevelV2: lambda.SystemLogLevel.WARN,
        environmentEncryption: key,
      });
      // The role's permissions are in place before anything can invoke it.
      fn.node.addDependency(policy);
      this.functions.set(rule.id, fn);

      for (const account of [Aws.ACCOUNT_ID, ...settings.invokerAccountIds]) {
        const permission = new lambda.CfnPermission(
          scope,
          account === Aws.ACCOUNT_ID ? 'ConfigInvoke' : `ConfigInvoke${account}`,
          {
            action: 'lambda:InvokeFunction',
            functionName: fn.functionArn,
            principal: 'config.amazonaws.com',
            // Only AWS Config acting for these accounts (no confused deputy).
            sourceAccount: account,
          },
        );
        permissions.push(permission);
      }
      this.acknowledgeFindings(scope, rule, key !== undefined, assumesRole(inputParameters) ? settings.executionRoleArns : []);

      const deployment: RuleDeployment = {
        rule,
        name,
        functionArn: fn.functionArn,
        inputParameters,
        frequency: settings.scheduleFrequency,
      };
      deployments.push(deployment);
      if (settings.deployAs === 'rules') {
        const configRule = new CfnResource(scope, 'Rule', {
          type: 'AWS::Config::ConfigRule',
          properties: configRuleProperties(deployment),
        });
        permissions.filter((p) => p.node.scope === scope).forEach((p) => configRule.addResourceDependency(p));
      }
      new CfnOutput(scope, 'FunctionArn', { value: fn.functionArn, description: `Function of rule ${rule.id}` });
    }

    if (settings.deployAs === 'conformance-pack' || settings.deployAs === 'organization-conformance-pack') {
      const templateBody = this.toJsonString(conformancePackTemplate(deployments));
      const pack =
        settings.deployAs === 'conformance-pack'
          ? new config.CfnConformancePack(this, 'ConformancePack', {
              conformancePackName: settings.conformancePackName,
              templateBody,
            })
          : new config.CfnOrganizationConformancePack(this, 'OrganizationConformancePack', {
              organizationConformancePackName: settings.conformancePackName,
              templateBody,
              excludedAccounts: settings.excludedAccounts.length > 0 ? settings.excludedAccounts : undefined,
            });
      permissions.forEach((p) => pack.addResourceDependency(p));
    }
  }

  private ruleStatements(
    rule: ManifestRule,
    logGroup: logs.LogGroup,
    settings: Settings,
    inputParameters: Record<string, string>,
  ): iam.PolicyStatement[] {
    const byResources = new Map<string, string[]>();
    for (const action of rule.iamActions) {
      const resources = actionResources(rule, action);
      const k = JSON.stringify(resources);
      byResources.set(k, [...(byResources.get(k) ?? []), action]);
    }
    const statements = [...byResources.entries()].map(
      ([resources, actions]) => new iam.PolicyStatement({ actions, resources: JSON.parse(resources) }),
    );
    statements.push(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    // Central-account set-ups: the rule assumes the event's executionRoleArn.
    if (assumesRole(inputParameters)) {
      if (settings.executionRoleArns.length === 0) {
        throw new Error(
          `atrest: rule ${rule.id} has assumeExecutionRole=true: name the roles it may assume in context atrest:executionRoleArns`,
        );
      }
      statements.push(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: settings.executionRoleArns }));
    }
    return statements;
  }

  /** A customer-managed key, rotated yearly, for the functions' environment and their log groups. */
  private encryptionKey(): kms.Key {
    const key = new kms.Key(this, 'Key', {
      description: 'atrest: encrypts the rule functions environment and log groups',
      enableKeyRotation: true,
      alias: 'alias/atrest/functions',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
        },
      }),
    );
    return key;
  }

  /** The cdk-nag findings a rule's resources keep on purpose, each with its reason. */
  private acknowledgeFindings(scope: Construct, rule: ManifestRule, encrypted: boolean, assumedRoles: string[]): void {
    for (const role of assumedRoles.filter((r) => r.includes('*'))) {
      Validations.of(scope).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${role}]`,
        reason: 'The execution role of each member account (context atrest:executionRoleArns), named by the operator.',
      });
    }
    const wildcards = new Set(
      rule.iamActions.flatMap((action) =>
        actionResources(rule, action, '<AWS::Partition>', '<AWS::Region>', '<AWS::AccountId>'),
      ),
    );
    for (const resource of [...wildcards].filter((r) => r.includes('*'))) {
      Validations.of(scope).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          resource === '*'
            ? 'These read-only actions (e.g. ec2:DescribeVolumes, kms:ListAliases, config:PutEvaluations) support no resource-level permissions; every action is named, none is a wildcard.'
            : resource.includes(':kms:')
              ? 'Read-only key metadata of any key in the region: a resource may be encrypted with another account\'s key, whose key policy still decides.'
              : 'Read-only actions over every resource of this type in the account and region: a periodic sweep judges all of them.',
      });
    }
    Validations.of(scope).acknowledge({
      id: 'PCI.DSS.321-LambdaInsideVPC',
      reason: 'The function calls only AWS APIs over TLS and handles no cardholder data; a VPC would add NAT or endpoints and no protection.',
    });
    if (!encrypted) {
      Validations.of(scope).acknowledge({
        id: 'PCI.DSS.321-CloudWatchLogGroupEncrypted',
        reason: 'Set context atrest:encryptionKey=true for a customer-managed key; the logs hold no secrets (never values).',
      });
    }
  }
}

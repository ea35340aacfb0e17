// RulesPackStack: per manifest rule one Lambda function (provided.al2023),
// its own least-privilege role and log group, the permission for AWS Config
// to invoke it, and its Config rule (standalone, or inside a conformance pack
// for the account or the organization); a queue that keeps failed
// invocations, and alarms on failures, errors and throttles.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Aws,
  CfnResource,
  Duration,
  NestedStack,
  RemovalPolicy,
  Stack,
  StackProps,
  Validations,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatch_actions,
  aws_config as config,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  aws_sqs as sqs,
  CfnOutput,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  RuleDeployment,
  configRuleProperties,
  conformancePackTemplate,
  logicalId,
  remediationProperties,
} from './config-rule';
import { RemediationRoles, remediableRules, remediationDeployment } from './remediation';
import { Alerts, criticalCalls } from './alerts';
import { ManifestRule, actionStatements } from './manifest';
import { InvokePermission, checkPolicySize } from './resource-policy';

/** The resources of one nested stack of invoke permissions (CloudFormation allows 500). */
const MAX_RESOURCES = 490;
import { ROLE_PATH, Settings, selectRules } from './settings';
import { acknowledgeWildcards } from './wildcards';



export interface RulesPackStackProps extends StackProps {
  readonly manifest: ManifestRule[];
  readonly settings: Settings;
}

/** Whether a rule's parameters make it assume the event's execution role. */
function assumesRole(inputParameters: Record<string, string>): boolean {
  return (inputParameters.assumeExecutionRole ?? '').toLowerCase() === 'true';
}

export class RulesPackStack extends Stack {
  /** The functions by rule id. */
  readonly functions = new Map<string, lambda.Function>();
  /** Where Lambda puts the invocations that failed after their retries. */
  readonly failedInvocations: sqs.Queue;

  constructor(scope: Construct, id: string, props: RulesPackStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const selected = selectRules(props.manifest, settings);
    const packageDir = path.join(settings.packageRoot, settings.architecture);
    const key = settings.encryptionKey ? this.encryptionKey() : undefined;
    const alarmTopic = this.alarmTopic(settings, key);
    this.failedInvocations = this.failureQueue(key, alarmTopic);
    const deployments: RuleDeployment[] = [];
    const permissions: CfnResource[] = [];
    // The runbooks' automation roles: in every account the rules evaluate
    // (this one; members get theirs from the member template or StackSet).
    const remediation = remediationDeployment(settings);
    const remediationRoles = new RemediationRoles(
      this,
      'Remediation',
      remediableRules(selected.map((s) => s.rule), remediation),
    );

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
        // No fixed name: a redeploy after a destroy, or a leftover
        // /aws/lambda/<function> group, never collides with a kept group.
        retention: settings.logRetentionDays as logs.RetentionDays,
        encryptionKey: key,
        // Evaluation logs are audit evidence: kept when the stack goes.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        path: ROLE_PATH,
        description: `Runs the atrest rule ${rule.id}: the rule's read-only calls, PutEvaluations and its own logs`,
      });
      const policy = new iam.ManagedPolicy(scope, 'Policy', {
        description: `Exactly what the atrest rule ${rule.id} calls (rules/manifest.json)`,
        statements: this.ruleStatements(rule, logGroup, settings, inputParameters, key),
      });
      role.addManagedPolicy(policy);
      const fn = new lambda.Function(scope, 'Function', {
        functionName: name,
        description: rule.description.slice(0, 256),
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: settings.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(zip),
        memorySize: rule.memoryMb,
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
      this.keepFailures(scope, fn, rule.id, alarmTopic);

      const permission = new lambda.CfnPermission(scope, 'ConfigInvoke', {
        action: 'lambda:InvokeFunction',
        functionName: fn.functionArn,
        principal: 'config.amazonaws.com',
        // Only AWS Config acting for this account (no confused deputy).
        sourceAccount: Aws.ACCOUNT_ID,
      });
      permissions.push(permission);
      const invokers: InvokePermission[] = [Aws.ACCOUNT_ID, ...settings.invokerAccountIds].map((account) => ({
        functionName: name,
        sourceAccount: account === Aws.ACCOUNT_ID ? '0'.repeat(12) : account,
      }));
      checkPolicySize(name, invokers);
      this.acknowledgeFindings(scope, rule, key !== undefined, assumesRole(inputParameters) ? settings.executionRoleName : undefined);

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
        const properties = remediation === undefined ? undefined : remediationProperties(deployment, remediation);
        if (properties !== undefined) {
          const fix = new CfnResource(scope, 'Remediation', { type: 'AWS::Config::RemediationConfiguration', properties });
          fix.addResourceDependency(configRule);
          remediationRoles.node.children.forEach((c) => fix.node.addDependency(c));
        }
      }
      new CfnOutput(scope, 'FunctionArn', { value: fn.functionArn, description: `Function of rule ${rule.id}` });
      new CfnOutput(scope, 'RoleArn', {
        value: role.roleArn,
        description: `Role of rule ${rule.id}: member accounts' execution roles trust role${ROLE_PATH}*`,
      });
    }

    const invokerStacks = this.invokerPermissions(settings.invokerAccountIds);

    if (settings.deployAs === 'conformance-pack' || settings.deployAs === 'organization-conformance-pack') {
      const templateBody = this.toJsonString(conformancePackTemplate(deployments, remediation));
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
      pack.node.addDependency(remediationRoles);
      // The body is the pack's own template, as text: its Fn::Sub of each
      // account's remediation role (`${AWS::AccountId}`) is resolved by the
      // pack in every account, not here, which cfn-lint's E1029 cannot tell.
      pack.addMetadata('cfn-lint', { config: { ignore_checks: ['E1029'] } });
      // Config checks it may invoke each function before it creates a rule.
      invokerStacks.forEach((nested) => pack.node.addDependency(nested));
    }
    if (settings.alerts === 'on') {
      new Alerts(this, 'KmsAlerts', {
        calls: criticalCalls(props.manifest, settings.parameters),
        namePrefix: settings.namePrefix,
      });
    }
    new CfnOutput(this, 'FailedInvocationsQueue', {
      value: this.failedInvocations.queueUrl,
      description: 'Invocations that failed after two retries (the event and the error), kept 14 days',
    });
  }

  /**
   * The invoke permissions of the other accounts (the central-account
   * pattern): one per account and function, for AWS Config acting for that
   * account (`SourceAccount`). They live in nested stacks of at most
   * MAX_RESOURCES each, as CloudFormation caps a stack at 500 resources.
   */
  private invokerPermissions(accounts: string[]): NestedStack[] {
    const functions = [...this.functions.entries()];
    const perStack = Math.max(1, Math.floor(MAX_RESOURCES / Math.max(1, functions.length)));
    const stacks: NestedStack[] = [];
    for (let first = 0; first < accounts.length; first += perStack) {
      const nested = new NestedStack(this, `Invokers${stacks.length + 1}`, {
        description: `atrest: AWS Config of accounts ${first + 1}-${Math.min(accounts.length, first + perStack)} of ${accounts.length} may invoke the rule functions`,
      });
      for (const account of accounts.slice(first, first + perStack)) {
        for (const [ruleId, fn] of functions) {
          new lambda.CfnPermission(nested, `${logicalId(ruleId)}${account}`, {
            action: 'lambda:InvokeFunction',
            functionName: fn.functionArn,
            principal: 'config.amazonaws.com',
            sourceAccount: account,
          });
        }
      }
      stacks.push(nested);
    }
    return stacks;
  }

  /**
   * The alarms' topic: the operator's (`atrest:alarmTopicArn`), or one of
   * this stack, encrypted with the stack's key when there is one.
   */
  private alarmTopic(settings: Settings, key: kms.Key | undefined): sns.ITopic {
    if (settings.alarmTopicArn !== undefined) {
      return sns.Topic.fromTopicArn(this, 'Alarms', settings.alarmTopicArn);
    }
    const topic = new sns.Topic(this, 'Alarms', {
      displayName: 'atrest: rule functions failing, erroring or throttled',
      masterKey: key,
      enforceSSL: true,
    });
    if (key === undefined) {
      const reason =
        'CloudWatch alarms cannot publish to a topic under the AWS managed key; set atrest:encryptionKey=true for a customer-managed one. The topic carries alarm states, no data.';
      Validations.of(topic).acknowledge({ id: 'AwsSolutions-SNS2', reason });
      Validations.of(topic).acknowledge({ id: 'PCI.DSS.321-SNSEncryptedKMS', reason });
    }
    new CfnOutput(this, 'AlarmTopic', { value: topic.topicArn, description: 'Subscribe here to hear of failing rules' });
    return topic;
  }

  /** The queue Lambda sends failed invocations to: encrypted, TLS only, kept 14 days. */
  private failureQueue(key: kms.Key | undefined, alarmTopic: sns.ITopic): sqs.Queue {
    const queue = new sqs.Queue(this, 'FailedInvocations', {
      encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead end of failed invocations (a Lambda on-failure destination), read by an operator.',
    });
    const alarm = new cloudwatch.Alarm(this, 'FailedInvocationsAlarm', {
      alarmDescription: 'atrest: an evaluation failed after its retries: its event and error are in the failed-invocations queue',
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatch_actions.SnsAction(alarmTopic));
    return queue;
  }

  /**
   * Config invokes the functions asynchronously: after Lambda's two retries
   * a failed invocation goes to the failed-invocations queue instead of
   * vanishing; errors and throttles raise alarms.
   */
  private keepFailures(scope: Construct, fn: lambda.Function, ruleId: string, alarmTopic: sns.ITopic): void {
    new lambda.CfnEventInvokeConfig(scope, 'AsyncInvoke', {
      functionName: fn.functionName,
      qualifier: '$LATEST',
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 6 * 3600,
      destinationConfig: { onFailure: { destination: this.failedInvocations.queueArn } },
    });
    for (const [metric, what] of [
      [fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 'failed (an error: see its log group)'],
      [fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), 'was throttled (Lambda concurrency)'],
    ] as const) {
      const alarm = new cloudwatch.Alarm(scope, metric.metricName === 'Errors' ? 'ErrorsAlarm' : 'ThrottlesAlarm', {
        alarmDescription: `atrest: an invocation of rule ${ruleId} ${what}`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new cloudwatch_actions.SnsAction(alarmTopic));
    }
  }

  private ruleStatements(
    rule: ManifestRule,
    logGroup: logs.LogGroup,
    settings: Settings,
    inputParameters: Record<string, string>,
    key: kms.Key | undefined,
  ): iam.PolicyStatement[] {
    const statements = actionStatements([rule]);
    statements.push(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
      // Lambda sends a failed invocation to the queue with the function's role.
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.failedInvocations.queueArn] }),
    );
    if (key !== undefined) {
      // SQS encrypts the message under the stack's key for the sender: only
      // that key, and only through SQS.
      statements.push(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    // Central-account set-ups: the rule assumes atrest:executionRoleName in
    // the account it evaluates, and only in the accounts that invoke it.
    if (assumesRole(inputParameters)) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [`arn:${Aws.PARTITION}:iam::*:role/${settings.executionRoleName}`],
          conditions: { StringEquals: { 'aws:ResourceAccount': [Aws.ACCOUNT_ID, ...settings.invokerAccountIds] } },
        }),
      );
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
    // The alarms publish to the topic encrypted under this key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    return key;
  }

  /** The cdk-nag findings a rule's resources keep on purpose, each with its reason. */
  private acknowledgeFindings(scope: Construct, rule: ManifestRule, encrypted: boolean, executionRole?: string): void {
    acknowledgeWildcards(scope, [rule]);
    if (executionRole !== undefined) {
      Validations.of(scope).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${executionRole}]`,
        reason: 'The execution role of each invoking account, by name, on the condition aws:ResourceAccount lists those accounts.',
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

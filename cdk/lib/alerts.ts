// The app's KMS alerting (`atrest:alerts=on`): EventBridge rules for the
// critical KMS API calls (as CloudTrail delivers them) and for KMS's own
// key events, to an SNS topic encrypted with a customer-managed key. It is
// what `kms-critical-calls-monitored` looks for: a rule whose pattern
// matches every call of each critical action, with a target.
import {
  Aws,
  CfnOutput,
  RemovalPolicy,
  Validations,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ManifestRule } from './manifest';

/** The rule that judges the alerting, and its parameter of calls. */
export const MONITORED_RULE = 'kms-critical-calls-monitored';
const CALLS_PARAMETER = 'criticalActions';

/** KMS's own events (https://docs.aws.amazon.com/kms/latest/developerguide/kms-events.html). */
export const KEY_EVENTS = ['KMS CMK Rotation', 'KMS CMK Deletion', 'KMS Imported Key Material Expiration'];

/**
 * The critical calls: the rule's `criticalActions` as deployed (the app's
 * parameters), else its default in the manifest; API names, sorted, once.
 */
export function criticalCalls(manifest: ManifestRule[], parameters: Record<string, Record<string, string>>): string[] {
  const given = parameters[MONITORED_RULE]?.[CALLS_PARAMETER];
  const fallback = manifest.find((r) => r.id === MONITORED_RULE)?.parameters.find((p) => p.name === CALLS_PARAMETER)?.default;
  const text = given ?? fallback;
  if (text === undefined || text === null) {
    throw new Error(`atrest: the manifest has no ${MONITORED_RULE}.${CALLS_PARAMETER}: rebuild rules/manifest.json`);
  }
  const calls = text
    .split(',')
    .map((c) => c.trim().replace(/^kms:/, ''))
    .filter((c) => c !== '');
  if (calls.length === 0) throw new Error(`atrest: ${MONITORED_RULE}.${CALLS_PARAMETER} names no call`);
  return [...new Set(calls)].sort();
}

/** The event pattern of the critical calls, as CloudTrail delivers them to EventBridge. */
export function criticalCallsPattern(calls: string[]): Record<string, unknown> {
  return {
    source: ['aws.kms'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['kms.amazonaws.com'], eventName: calls },
  };
}

export interface AlertsProps {
  readonly calls: string[];
  readonly namePrefix: string;
}

/** The topic, its key and the two rules. */
export class Alerts extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'atrest: encrypts the KMS alerts topic',
      enableKeyRotation: true,
      alias: 'alias/atrest/kms-alerts',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'atrest: critical KMS calls and key events',
      masterKey: key,
      enforceSSL: true,
    });
    const rules = [
      new events.CfnRule(this, 'CriticalCalls', {
        name: `${props.namePrefix}kms-critical-calls`,
        description: 'atrest: the critical KMS API calls, from CloudTrail',
        state: 'ENABLED',
        eventPattern: criticalCallsPattern(props.calls),
        targets: [{ id: 'topic', arn: this.topic.topicArn }],
      }),
      new events.CfnRule(this, 'KeyEvents', {
        name: `${props.namePrefix}kms-key-events`,
        description: 'atrest: KMS key rotation, deletion and imported key material expiry',
        state: 'ENABLED',
        eventPattern: { source: ['aws.kms'], 'detail-type': KEY_EVENTS },
        targets: [{ id: 'topic', arn: this.topic.topicArn }],
      }),
    ];
    // Only these two rules may publish, and only they may use the key.
    const fromRules = { ArnEquals: { 'aws:SourceArn': rules.map((r) => r.attrArn) } };
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromRules,
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    Validations.of(key).acknowledge({
      id: 'AwsSolutions-IAM5',
      reason: "In a key policy, \"*\" is this key; EventBridge uses it only for this account's rules (aws:SourceAccount).",
    });
    new CfnOutput(this, 'TopicArn', {
      value: this.topic.topicArn,
      description: 'Subscribe here to hear of critical KMS calls and key events (EventBridge rules are regional: deploy per region)',
    });
  }
}

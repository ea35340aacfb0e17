// The AWS::Config::ConfigRule of one manifest rule, as CloudFormation
// properties: used alike for the stack's own rules and for the rules inside a
// conformance pack template (`atrest pack` writes the same shape).
import { ManifestRule, isChangeTriggered, isPeriodic, recordedScope } from './manifest';
import { Frequency } from './settings';

/** The logical id of a rule inside a conformance pack template: the rule id in PascalCase. */
export function logicalId(ruleId: string): string {
  return ruleId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export interface RuleDeployment {
  readonly rule: ManifestRule;
  readonly name: string;
  /** The function's ARN (a string or a CloudFormation expression). */
  readonly functionArn: unknown;
  readonly inputParameters: Record<string, string>;
  readonly frequency: Frequency;
}

export function configRuleProperties(d: RuleDeployment): Record<string, unknown> {
  const sourceDetails: Array<Record<string, string>> = [];
  if (isChangeTriggered(d.rule)) {
    for (const messageType of ['ConfigurationItemChangeNotification', 'OversizedConfigurationItemChangeNotification']) {
      sourceDetails.push({ EventSource: 'aws.config', MessageType: messageType });
    }
  }
  if (isPeriodic(d.rule)) {
    sourceDetails.push({
      EventSource: 'aws.config',
      MessageType: 'ScheduledNotification',
      MaximumExecutionFrequency: d.frequency,
    });
  }
  const properties: Record<string, unknown> = {
    ConfigRuleName: d.name,
    Description: d.rule.description,
    Source: { Owner: 'CUSTOM_LAMBDA', SourceIdentifier: d.functionArn, SourceDetails: sourceDetails },
  };
  // Scope narrows change notifications; a periodic-only rule has none.
  if (isChangeTriggered(d.rule)) {
    properties.Scope = { ComplianceResourceTypes: recordedScope(d.rule) };
  }
  if (Object.keys(d.inputParameters).length > 0) {
    properties.InputParameters = d.inputParameters;
  }
  return properties;
}

/** A conformance pack template holding one custom rule per deployment. */
export function conformancePackTemplate(deployments: RuleDeployment[]): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const d of deployments) {
    resources[logicalId(d.rule.id)] = { Type: 'AWS::Config::ConfigRule', Properties: configRuleProperties(d) };
  }
  return { Resources: resources };
}

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

/** How a deployment remediates: the mode, the automation roles' ARN prefix, the key runbooks encrypt with. */
export interface RemediationDeployment {
  readonly mode: 'manual' | 'automatic';
  /** The automation roles' ARN up to the role name (a string, or one with ${AWS::...} placeholders). */
  readonly rolePrefix: string;
  readonly keyArn?: string;
}

/** A value with ${AWS::...} placeholders as an Fn::Sub, else itself (as `atrest pack` writes it). */
function maybeSub(value: string): unknown {
  return value.includes('${') ? { 'Fn::Sub': value } : value;
}

/**
 * The AWS::Config::RemediationConfiguration properties of a rule's runbook;
 * undefined when it has none, or needs a key the deployment does not name.
 */
export function remediationProperties(d: RuleDeployment, r: RemediationDeployment): Record<string, unknown> | undefined {
  const runbook = d.rule.remediation;
  if (runbook === null) return undefined;
  const parameters: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(runbook.parameters)) {
    if (value === 'automation-role') {
      parameters[name] = { StaticValue: { Values: [maybeSub(`${r.rolePrefix}${runbook.roleName}`)] } };
    } else if (value === 'resource-id') {
      parameters[name] = { ResourceValue: { Value: 'RESOURCE_ID' } };
    } else {
      if (r.keyArn === undefined) return undefined;
      parameters[name] = { StaticValue: { Values: [maybeSub(r.keyArn)] } };
    }
  }
  const automatic = r.mode === 'automatic';
  return {
    ConfigRuleName: d.name,
    TargetType: 'SSM_DOCUMENT',
    TargetId: runbook.runbook,
    Parameters: parameters,
    Automatic: automatic,
    ...(automatic ? { MaximumAutomaticAttempts: 5, RetryAttemptSeconds: 60 } : {}),
  };
}

/** A conformance pack template holding one custom rule per deployment, and its runbook when asked. */
export function conformancePackTemplate(
  deployments: RuleDeployment[],
  remediation?: RemediationDeployment,
): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const d of deployments) {
    const id = logicalId(d.rule.id);
    resources[id] = { Type: 'AWS::Config::ConfigRule', Properties: configRuleProperties(d) };
    const properties = remediation === undefined ? undefined : remediationProperties(d, remediation);
    if (properties !== undefined) {
      resources[`${id}Remediation`] = { Type: 'AWS::Config::RemediationConfiguration', DependsOn: id, Properties: properties };
    }
  }
  return { Resources: resources };
}

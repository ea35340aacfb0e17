// How large a function's resource-based policy grows with its invoke
// permissions: Lambda caps it at 20 KB, and the central-account pattern adds
// one statement per invoking account. The statement is the one Lambda writes
// for an AWS::Lambda::Permission (GetPolicy shows it), measured on the
// synthesised resource with worst-case values for what is known only at
// deploy time (region, account) and for the statement id CloudFormation
// makes of the stack, logical and random names: Lambda's longest, 100.

/** Lambda's limit on a function's resource-based policy, in bytes. */
export const LAMBDA_POLICY_LIMIT = 20 * 1024;

/** The longest commercial region name (`ap-southeast-5`, ...): 14 characters. */
const LONGEST_REGION = 'x'.repeat(14);
/**
 * CloudFormation names a permission's statement `<stack>-<logical id>-<random>`,
 * cut to Lambda's limit on a statement id, 100 characters: the invoke
 * permissions of other accounts live in nested stacks, whose long names
 * reach it.
 */
const STATEMENT_ID = 'x'.repeat(100);

export interface InvokePermission {
  readonly functionName: string;
  readonly sourceAccount: string;
}

/** The statement Lambda stores for one invoke permission of config.amazonaws.com. */
export function permissionStatement(p: InvokePermission): Record<string, unknown> {
  return {
    Sid: STATEMENT_ID,
    Effect: 'Allow',
    Principal: { Service: 'config.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: `arn:aws:lambda:${LONGEST_REGION}:${'0'.repeat(12)}:function:${p.functionName}`,
    Condition: { StringEquals: { 'AWS:SourceAccount': p.sourceAccount } },
  };
}

/** The size, in bytes, of the policy holding `permissions` (Lambda stores it compact). */
export function policyBytes(permissions: InvokePermission[]): number {
  const policy = { Version: '2012-10-17', Id: 'default', Statement: permissions.map(permissionStatement) };
  return Buffer.byteLength(JSON.stringify(policy), 'utf8');
}

/**
 * Refuses a function whose policy would pass Lambda's limit, saying how many
 * invoking accounts fit: above that, deploy the functions in every account.
 */
export function checkPolicySize(functionName: string, permissions: InvokePermission[]): void {
  const bytes = policyBytes(permissions);
  if (bytes <= LAMBDA_POLICY_LIMIT) return;
  const perStatement = Math.ceil((bytes - policyBytes([])) / permissions.length) + 1;
  const fits = Math.floor((LAMBDA_POLICY_LIMIT - policyBytes([])) / perStatement);
  throw new Error(
    `atrest: function ${functionName} would need ${permissions.length} invoke permissions (${bytes} bytes), ` +
      `but a Lambda resource-based policy holds ${LAMBDA_POLICY_LIMIT} bytes: about ${fits} accounts of ` +
      `${perStatement} bytes each. For an organization this large, deploy the functions in every account ` +
      `(atrest:deployAs=functions through StackSets, see the README) instead of the central-account pattern.`,
  );
}

import { loadSettings } from '../../../src/config';
import { classifyMessaging } from '../../../src/targets/messaging';
import { callFailureFromAmqpError } from '../../../src/wire/callFailure';

/** How Service Bus and Event Hubs refusals (as the SDKs throw them) become CallFailures and causes. */
const at = { url: 'https://ns1abc.servicebus.windows.net', deadlineSignal: new AbortController().signal, elapsedMs: 12 };
const tail = 'TrackingId:7af918f6d4c749b58d46aa5cbad88475_G3, SystemTracker:ns1abc.servicebus.windows.net:orders, Timestamp:2026-12-01T08:56:34';
const sbError = (code: string, message: string) => Object.assign(new Error(message), { name: 'ServiceBusError', code });
const ehError = (code: string, message: string) => Object.assign(new Error(message), { name: 'MessagingError', code });
const causeOf = (err: unknown) => classifyMessaging(callFailureFromAmqpError(err, at));

describe('AMQP failures', () => {
  it('keeps the SDK code, the reason code, the AMQP condition and the tracking id of a CBS refusal', () => {
    expect(callFailureFromAmqpError(sbError('UnauthorizedAccess', `InvalidIssuer: Token issuer is invalid. ${tail}`), at)).toEqual({
      errorCode: 'UnauthorizedAccess',
      innerErrorCode: 'InvalidIssuer',
      amqpCondition: 'amqp:unauthorized-access',
      message: `InvalidIssuer: Token issuer is invalid. ${tail}`,
      requestId: '7af918f6d4c749b58d46aa5cbad88475_G3',
    });
  });

  it('reads a missing claim as role_missing although the condition looks like authentication', () => {
    expect(causeOf(sbError('UnauthorizedAccess', `Unauthorized access. 'Listen' claim(s) are required to perform this operation. Resource: 'sb://ns1abc.servicebus.windows.net/orders'. ${tail}`))).toBe('role_missing');
    expect(causeOf(ehError('UnauthorizedError', `Unauthorized access. 'Send' claim(s) are required to perform this operation. ${tail}`))).toBe('role_missing');
  });

  it('tells the token checks apart by their reason codes, and leaves an unknown 401 to the claims', () => {
    expect(causeOf(sbError('UnauthorizedAccess', `InvalidAudience: Invalid authorization token audience. ${tail}`))).toBe('wrong_audience');
    expect(causeOf(ehError('UnauthorizedError', `InvalidIssuer: Token issuer is invalid. ${tail}`))).toBe('wrong_tenant');
    expect(causeOf(sbError('UnauthorizedAccess', `ExpiredToken: The token is expired. Expiration time: '2019-04-11 21:12:56Z'. ${tail}`))).toBe('token_expired');
    expect(causeOf(sbError('UnauthorizedAccess', `InvalidSignature: The token has an invalid signature. ${tail}`))).toBe('authentication');
  });

  it('reads the IP filter refusal as network_blocked, a missing entity as resource_not_found, busy as throttled', () => {
    expect(causeOf(sbError('UnauthorizedAccess', `Ip has been prevented to connect to the endpoint.\nFor more information see: … ${tail}`))).toBe('network_blocked');
    expect(causeOf(sbError('MessagingEntityNotFound', `The messaging entity 'sb://ns1abc.servicebus.windows.net/nope' could not be found. ${tail}`))).toBe('resource_not_found');
    expect(causeOf(ehError('MessagingEntityNotFoundError', `The messaging entity 'sb://ns1abc.servicebus.windows.net/nope' could not be found. ${tail}`))).toBe('resource_not_found');
    expect(causeOf(sbError('ServiceBusy', `The request was terminated because the entity is being throttled. Error code : 50009. ${tail}`))).toBe('throttled');
    expect(causeOf(ehError('InternalServerError', `The service was unable to process the request. ${tail}`))).toBeUndefined();
  });

  it('reads a socket error as the transport failure it is, even renamed to GeneralError by @azure/service-bus', () => {
    const renamed = Object.assign(new Error('ENOTFOUND: getaddrinfo ENOTFOUND nxdomain-x.servicebus.windows.net'), { name: 'MessagingError', code: 'GeneralError', syscall: 'getaddrinfo', errno: -3008 });
    expect(callFailureFromAmqpError(renamed, at).transport).toMatchObject({ kind: 'dns', code: 'ENOTFOUND' });
    expect(callFailureFromAmqpError(ehError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5671'), at).transport).toMatchObject({ kind: 'refused' });
    expect(callFailureFromAmqpError(ehError('OperationTimeoutError', 'timed out'), at).transport).toMatchObject({ kind: 'timeout' });
  });
});

describe('serviceBus and eventHubs targets', () => {
  const load = (t: Record<string, unknown>) => () => loadSettings({ DIAGNOSE_TARGETS: JSON.stringify([{ name: 't', ...t }]) });

  it('accept a queue, a subscription, an event hub, with access and a custom endpoint', () => {
    expect(load({ kind: 'serviceBus', fullyQualifiedNamespace: 'ns1abc.servicebus.windows.net', queueName: 'orders' })).not.toThrow();
    expect(load({ kind: 'serviceBus', fullyQualifiedNamespace: 'ns1abc.servicebus.chinacloudapi.cn', topicName: 't', subscriptionName: 's', access: 'both', endpoint: 'https://gw.contoso.com:8443' })).not.toThrow();
    expect(load({ kind: 'eventHubs', fullyQualifiedNamespace: 'ns1abc.servicebus.usgovcloudapi.net', eventHubName: 'h', consumerGroup: '$Default', access: 'send' })).not.toThrow();
  });

  it('refuse a namespace outside the service domain, a queue together with a topic, or a topic to receive from without a subscription, naming the field', () => {
    expect(load({ kind: 'serviceBus', fullyQualifiedNamespace: 'attacker.example.com', queueName: 'q' })).toThrow(/fullyQualifiedNamespace/);
    expect(load({ kind: 'serviceBus', fullyQualifiedNamespace: 'sb://ns1abc.servicebus.windows.net/', queueName: 'q' })).toThrow(/fullyQualifiedNamespace/);
    expect(load({ kind: 'serviceBus', fullyQualifiedNamespace: 'ns1abc.servicebus.windows.net', queueName: 'q', topicName: 't' })).toThrow(/queueName/);
    expect(load({ kind: 'serviceBus', fullyQualifiedNamespace: 'ns1abc.servicebus.windows.net', topicName: 't' })).toThrow(/subscriptionName/);
    expect(load({ kind: 'eventHubs', fullyQualifiedNamespace: 'ns1abc.servicebus.windows.net', eventHubName: 'h', access: 'write' })).toThrow(/access/);
    expect(load({ kind: 'eventHubs', fullyQualifiedNamespace: 'ns1abc.servicebus.windows.net', eventHubName: 'h', endpoint: 'http://gw.contoso.com' })).toThrow(/endpoint/);
  });
});

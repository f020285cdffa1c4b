import { PutBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import * as Minio from 'minio';
import { PROBE_PREFIX, ROUTES } from '../lib/flow/routes.ts';
import type { StackConfig } from './stack-config.ts';

export const MINIO_WEBHOOK_ID = 'VAULTMEND';

/** One notification per route, named by function and prefix: a function may have several routes, and ids must be unique. */
export function notificationId(route: { fn: string; prefix: string }): string {
  return `${route.fn}-${route.prefix.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}`;
}

export function bridgeUrl(config: StackConfig): string {
  return `http://127.0.0.1:${config.BRIDGE_PORT}/events`;
}

/**
 * RGW: one persistent SNS-style topic whose push endpoint is the event bridge (the store
 * queues and retries deliveries while the bridge is down), and one bucket notification per
 * route of lib/flow/routes.ts.
 */
export async function configureRgwNotifications(config: StackConfig, s3: S3Client): Promise<string> {
  const sns = new SNSClient({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY },
  });
  const topic = await sns.send(
    new CreateTopicCommand({
      Name: `${config.VAULT_BUCKET}-events`,
      Attributes: { 'push-endpoint': bridgeUrl(config), persistent: 'true' },
    }),
  );
  if (!topic.TopicArn) throw new Error('RGW returned no topic ARN');
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: config.VAULT_BUCKET,
      NotificationConfiguration: {
        TopicConfigurations: [...ROUTES, { fn: 'stack-probe', prefix: PROBE_PREFIX }].map((route) => ({
          Id: notificationId(route),
          TopicArn: topic.TopicArn!,
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: [
                { Name: 'prefix' as const, Value: route.prefix },
                ...('suffix' in route && route.suffix ? [{ Name: 'suffix' as const, Value: route.suffix }] : []),
              ],
            },
          },
        })),
      },
    }),
  );
  return topic.TopicArn;
}

/** MinIO: the webhook target is set by environment at server start; this subscribes the bucket to it. */
export async function configureMinioNotifications(config: StackConfig): Promise<string> {
  const url = new URL(config.S3_ENDPOINT);
  const client = new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    useSSL: url.protocol === 'https:',
    accessKey: config.S3_ACCESS_KEY_ID,
    secretKey: config.S3_SECRET_ACCESS_KEY,
    region: config.S3_REGION,
  });
  const arn = `arn:minio:sqs::${MINIO_WEBHOOK_ID}:webhook`;
  const notification = new Minio.NotificationConfig();
  for (const route of [...ROUTES, { fn: 'stack-probe', prefix: PROBE_PREFIX }]) {
    const queue = new Minio.QueueConfig(arn);
    queue.setId(notificationId(route));
    queue.addEvent(Minio.ObjectCreatedAll);
    queue.addFilterPrefix(route.prefix);
    if ('suffix' in route && route.suffix) queue.addFilterSuffix(route.suffix);
    notification.add(queue);
  }
  await client.setBucketNotification(config.VAULT_BUCKET, notification);
  return arn;
}

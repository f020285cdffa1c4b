import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { z } from 'zod';

/**
 * Upload notifications as AWS, Ceph RGW and MinIO send them. Powertools' S3 record schema is
 * the base; the fields each store fills differently (source, region, request metadata) are
 * loosened, and `objectCreatedEvents` turns any of them into one normalised shape.
 */
const AwsS3Record = S3Schema.shape.Records.element;

export const StoreS3RecordSchema = AwsS3Record.extend({
  eventSource: z.enum(['aws:s3', 'ceph:s3', 'minio:s3']),
  awsRegion: z.string(),
  eventTime: z.string().min(1),
  userIdentity: z.object({ principalId: z.string() }).optional(),
  requestParameters: z.record(z.string(), z.unknown()).optional(),
  responseElements: z.record(z.string(), z.unknown()).optional(),
  s3: AwsS3Record.shape.s3.extend({
    configurationId: z.string().optional(),
    bucket: z.object({ name: z.string().min(1), arn: z.string().optional() }).loose(),
    object: AwsS3Record.shape.s3.shape.object.loose(),
  }),
});

export const StoreS3EventSchema = z.object({ Records: z.array(StoreS3RecordSchema).min(1) });
export type StoreS3Event = z.infer<typeof StoreS3EventSchema>;

export interface ObjectCreated {
  bucket: string;
  /** The object key, decoded: exactly the key the object has in the store. */
  key: string;
  versionId?: string;
  size?: number;
  eTag?: string;
  /** The event name without the `s3:` prefix that AWS and MinIO add and RGW does not. */
  eventName: string;
  eventTime: string;
}

/** AWS and MinIO URL-encode keys form-style (`+` is a space); RGW sends them as stored. */
export function decodeEventKey(key: string, eventSource: string): string {
  if (eventSource === 'ceph:s3') return key;
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function normaliseEventName(name: string): string {
  return name.replace(/^s3:/, '');
}

/** The ObjectCreated records of an event, normalised; other event types are left out. */
export function objectCreatedEvents(event: StoreS3Event): ObjectCreated[] {
  return event.Records.filter((r) => normaliseEventName(r.eventName).startsWith('ObjectCreated:')).map((r) => {
    const object = r.s3.object;
    const created: ObjectCreated = {
      bucket: r.s3.bucket.name,
      key: decodeEventKey(object.key, r.eventSource),
      eventName: normaliseEventName(r.eventName),
      eventTime: r.eventTime,
    };
    if (object.versionId) created.versionId = object.versionId;
    if (object.size !== undefined) created.size = object.size;
    if (object.eTag) created.eTag = object.eTag;
    return created;
  });
}
